"""The worker's own end-of-turn detector: livekit-agents' local v1-mini, pipecat's Smart Turn
v3.2, or both, in-process, with the transcript completeness check on top.

It is a livekit-agents streaming turn detector (the session feeds it the user's audio and asks
for a prediction 0.2 s into each silence), built on its local transport. ``livekit`` is
exactly livekit-agents' own local detector. ``smart-turn`` and ``both`` keep the turn's last
8 s for Smart Turn; ``both`` calls a turn complete only when each model does, on one scale:
each probability over its own threshold. Smart Turn knows more languages than v1-mini (Russian,
for one); where v1-mini has no threshold for the language, ``both`` is Smart Turn alone.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
from livekit import rtc
from livekit.agents import inference, utils
from livekit.agents.inference.eot.base import DEFAULT_SAMPLE_RATE, _BaseStreamingTurnDetectorStream
from livekit.agents.inference.eot.languages import LOCAL_LANGUAGES
from livekit.agents.inference.eot.transports import _LocalTransport
from livekit.agents.log import logger

from ..config.models import EndOfTurnModel
from .completeness import EotObserver, TranscriptTail, _HeldStream
from .smart_turn import RATE, THRESHOLD, WINDOW_S, smart_turn

assert DEFAULT_SAMPLE_RATE == RATE


def _mini_threshold(language: str) -> float | None:
    return LOCAL_LANGUAGES.get(language.split("-")[0].lower())


def combined(
    model: EndOfTurnModel, mini: float | None, smart: float | None, language: str
) -> float:
    """One probability on the scale of :func:`threshold`."""
    if model == "livekit":
        assert mini is not None
        return mini
    assert smart is not None
    mini_threshold = _mini_threshold(language)
    if model == "smart-turn" or mini is None or mini_threshold is None:
        return smart
    return min(smart, THRESHOLD * min(mini / mini_threshold, 1 / THRESHOLD))


def threshold(model: EndOfTurnModel, language: str) -> float | None:
    """Below it the turn is unlikely to be over (the session then waits ``max_delay``);
    None: v1-mini alone does not know the language (livekit-agents then skips the model)."""
    return _mini_threshold(language) if model == "livekit" else THRESHOLD


class _Transport(_LocalTransport):
    """livekit-agents' in-process transport (v1-mini reads the last 1.2 s), plus the turn's
    last 8 s for Smart Turn."""

    def __init__(self, detector: ParleyTurnDetector) -> None:
        super().__init__(opts=detector._opts)
        self._model, self._language = detector.end_of_turn, detector.language
        self._turn = utils.AudioArrayBuffer(buffer_size=WINDOW_S * RATE, sample_rate=RATE)
        self._mini = model_needs_mini(self._model, self._language)

    def push_frame(self, frame: rtc.AudioFrame) -> None:
        if self._mini:
            super().push_frame(frame)
        if self._model != "livekit":
            self._turn.push_frame(frame)

    def flush(self) -> None:
        super().flush()
        if len(self._turn) > 0:
            self._turn.shift(len(self._turn))

    def run_inference(self, request_id: str) -> None:
        task = asyncio.create_task(self._judge(request_id, self._buf.read(), self._turn.read()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _probability(self, last: np.ndarray, turn: np.ndarray) -> float:
        mini = float(self._eot.predict(last)) if self._mini else None
        smart = smart_turn().probability(turn) if self._model != "livekit" else None
        return combined(self._model, mini, smart, self._language)

    async def _judge(self, request_id: str, last: np.ndarray, turn: np.ndarray) -> None:
        probability = 0.0  # as livekit-agents': a failed model waits max_delay, no longer
        t0 = time.monotonic()
        try:
            probability = await asyncio.to_thread(self._probability, last, turn)
        except Exception:
            logger.exception("local end-of-turn prediction failed")
        stream = self._stream_ref() if self._stream_ref is not None else None
        if stream is not None:
            stream._resolve_prediction(
                request_id, probability, inference_duration=time.monotonic() - t0
            )


def model_needs_mini(model: EndOfTurnModel, language: str) -> bool:
    return model == "livekit" or (model == "both" and _mini_threshold(language) is not None)


class _Stream(_BaseStreamingTurnDetectorStream):
    """The thresholds are the detector's, not v1-mini's table alone."""

    async def unlikely_threshold(self, language: Any) -> float | None:
        assert isinstance(self._detector, ParleyTurnDetector)
        return await self._detector.unlikely_threshold(language)

    async def supports_language(self, language: Any) -> bool:
        return await self._detector.supports_language(language)


class ParleyTurnDetector(inference.TurnDetector):
    def __init__(
        self,
        end_of_turn: EndOfTurnModel,
        language: str,
        tail: TranscriptTail | None = None,
        observe: EotObserver | None = None,
    ) -> None:
        super().__init__(version="v1-mini")
        self.end_of_turn, self.language = end_of_turn, language
        self._tail, self._observe = tail, observe
        if end_of_turn != "livekit":
            smart_turn()  # load now: a missing model is a config error, not a silent turn

    async def unlikely_threshold(self, language: Any) -> float | None:
        return threshold(self.end_of_turn, str(language or self.language))

    async def supports_language(self, language: Any) -> bool:
        return await self.unlikely_threshold(language) is not None

    def stream(self, **kwargs: Any) -> Any:
        inner = _Stream(
            detector=self,
            opts=self._opts,
            transport=_Transport(self),
            model=self._model,
            local_fallback=False,
        )
        return _HeldStream(inner, self._tail, self._observe)
