"""A cloud stage that goes quiet is cut off: after ``STALL_S`` without an answer its request
raises livekit-agents' ``APITimeoutError``, so the session's retries and a ``FallbackAdapter``
act on it, instead of the user waiting out the provider's own, longer bound (livekit-agents'
10 s default; livekit-plugins-openai's TTS reads for 30 s and bounds only the connection
by the request's timeout)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any, Never, cast

from livekit import rtc
from livekit.agents import APIConnectOptions, APITimeoutError, stt, tts, utils
from livekit.agents import vad as vad_
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr
from livekit.agents.voice.agent_session import SessionConnectOptions
from livekit.plugins import openai
from livekit.plugins.openai import tts as openai_tts

from ..config.models import CascadePipeline, LLMStage, STTStage, TTSStage

STALL_S = 5.0
"""Generous for a first token, a transcript or a first audio chunk (≈ 0.1–1 s when well)."""
CLOUD = APIConnectOptions(timeout=STALL_S)


def session_options(p: CascadePipeline) -> SessionConnectOptions:
    """Cloud stages, and any stage with a fallback, are bound by ``STALL_S``; offline ones
    alone keep livekit-agents' 10 s (a busy CPU, not a stall, is what slows them, and
    nothing else could answer). A hung engine with a fallback would keep the user waiting
    twice 10 s (its attempt and its retry) for the fallback to speak."""

    def bound(s: STTStage | LLMStage | TTSStage) -> APIConnectOptions:
        alone = s.provider == "offline" and not s.fallback
        return DEFAULT_API_CONNECT_OPTIONS if alone else CLOUD

    return SessionConnectOptions(
        stt_conn_options=bound(p.stt), llm_conn_options=bound(p.llm), tts_conn_options=bound(p.tts)
    )


class OpenAISTT(openai.STT):
    """livekit-plugins-openai's STT, a clip's transcription cut off at the request's timeout
    (the plugin reads for 30 s); it keeps the plugin's label."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._label = f"{openai.STT.__module__}.{openai.STT.__name__}"

    async def _recognize_impl(
        self,
        buffer: utils.AudioBuffer,
        *,
        language: NotGivenOr[str | list[str]] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        answer = super()._recognize_impl(buffer, language=language, conn_options=conn_options)
        try:
            return await asyncio.wait_for(answer, conn_options.timeout)
        except TimeoutError:
            raise APITimeoutError(
                f"OpenAI STT gave no transcript in {conn_options.timeout:g} s"
            ) from None


class OpenAITTS(openai.TTS):
    """livekit-plugins-openai's TTS, its answer cut off once no audio comes for the request's
    timeout; it keeps the plugin's label (what reports price it by)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._label = f"{openai.TTS.__module__}.{openai.TTS.__name__}"

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        return _WatchedStream(tts=self, input_text=text, conn_options=conn_options)


class _Watched:
    """The attempt's emitter, noting when audio last came."""

    def __init__(self, emitter: tts.AudioEmitter) -> None:
        self._emitter = emitter
        self.last = time.monotonic()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._emitter, name)

    def push(self, data: bytes) -> None:
        self.last = time.monotonic()
        self._emitter.push(data)


class _WatchedStream(openai_tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        watched = _Watched(output_emitter)
        run = asyncio.create_task(super()._run(cast(tts.AudioEmitter, watched)))
        try:
            while not run.done():
                left = watched.last + self._conn_options.timeout - time.monotonic()
                if left <= 0:
                    raise APITimeoutError(
                        f"OpenAI TTS gave no audio for {self._conn_options.timeout:g} s"
                    )
                await asyncio.wait({run}, timeout=left)
            run.result()
        finally:
            await utils.aio.cancel_and_wait(run)


class StallWatch(stt.STT[Never]):
    """A streaming STT whose provider must answer each utterance: once the local ``vad``
    hears the user stop, a final transcript (or the provider's usage for the utterance,
    which an utterance without words still gets) must come within ``stall_s``, else the
    attempt ends in ``APITimeoutError`` and the stream's retry opens another. A provider
    is silent in silence too, so silence alone proves nothing; livekit-plugins-openai's
    realtime transcription and livekit-plugins-google wait on a quiet socket for good.
    It keeps the wrapped STT's label (what reports price it by)."""

    def __init__(self, inner: stt.STT[Any], vad: vad_.VAD, stall_s: float = STALL_S) -> None:
        super().__init__(capabilities=inner.capabilities)
        self.inner, self.vad, self.stall_s = inner, vad, stall_s
        self._label = inner.label

    @property
    def model(self) -> str:
        return self.inner.model

    @property
    def provider(self) -> str:
        return self.inner.provider

    async def _recognize_impl(
        self,
        buffer: utils.AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        once = dataclasses.replace(conn_options, max_retry=0)  # retried here, not twice
        return await self.inner.recognize(buffer, language=language, conn_options=once)

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> stt.RecognizeStream:
        return _WatchedRecognition(watch=self, language=language, conn_options=conn_options)

    async def aclose(self) -> None:
        await self.inner.aclose()


ANSWERS = (stt.SpeechEventType.FINAL_TRANSCRIPT, stt.SpeechEventType.RECOGNITION_USAGE)
"""What shows the provider heard an utterance."""


class _WatchedRecognition(stt.RecognizeStream):
    def __init__(
        self,
        *,
        watch: StallWatch,
        language: NotGivenOr[str],
        conn_options: APIConnectOptions,
    ) -> None:
        super().__init__(stt=watch, conn_options=conn_options)
        self._watch, self._language = watch, language

    async def _run(self) -> None:
        # this stream retries; the attempt inside it must not retry on its own too
        once = dataclasses.replace(self._conn_options, max_retry=0)
        inner = self._watch.inner.stream(language=self._language, conn_options=once)
        heard = self._watch.vad.stream()
        due: float | None = None
        """When the provider must have answered the utterance the VAD heard end."""
        answered = True

        async def forward() -> None:
            async for data in self._input_ch:
                if isinstance(data, rtc.AudioFrame):
                    inner.push_frame(data)
                    heard.push_frame(data)
                else:
                    inner.flush()
            inner.end_input()
            heard.end_input()

        async def listen() -> None:
            nonlocal due, answered
            async for ev in heard:
                if ev.type == vad_.VADEventType.START_OF_SPEECH:
                    answered = False
                elif ev.type == vad_.VADEventType.END_OF_SPEECH and not answered:
                    due = time.monotonic() + self._watch.stall_s

        async def relay() -> None:
            nonlocal due, answered
            async for ev in inner:
                if ev.type in ANSWERS:
                    due, answered = None, True
                self._event_ch.send_nowait(ev)

        helpers = [asyncio.create_task(forward()), asyncio.create_task(listen())]
        relaying = asyncio.create_task(relay())
        try:
            while not relaying.done():
                left = None if due is None else due - time.monotonic()
                if left is not None and left <= 0:
                    raise APITimeoutError(
                        f"{self._watch.label} gave no transcript {self._watch.stall_s:g} s "
                        "after the speech ended"
                    )
                # the VAD may set a deadline at any time: look again at least every 0.1 s
                await asyncio.wait({relaying}, timeout=0.1 if left is None else min(left, 0.1))
            relaying.result()
        finally:
            await utils.aio.cancel_and_wait(relaying, *helpers)
            await inner.aclose()
            await heard.aclose()
