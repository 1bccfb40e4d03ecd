"""Cascade stages that run on the worker's CPU (``"provider": "offline"``).

Model files are loaded once per job process (the plugin caches them), so the first room
with a new model pays the load and later rooms do not. A model that is missing, cannot
serve the room's language, or is corrupted becomes a ``model_unavailable`` error on the
field the user must change.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import cache
from typing import TypeVar

from livekit import local_inference
from livekit.agents import vad
from livekit.plugins import offline, silero

from ..config.errors import ErrorCode, ParleyError
from ..config.models import CascadePipeline, LLMStage, RoomConfig, STTStage, TTSStage
from ..settings import WorkerSettings
from .adaptive_vad import room_vad
from .options import present

logger = logging.getLogger("parley")

T = TypeVar("T")


def _model_error_field(stage: str, model: str | None, voice: str | None = None) -> str:
    # A default model only fails for the language (or a broken install); a configured one
    # fails for its own path.
    if voice:
        return f"pipeline.{stage}.voice"
    return f"pipeline.{stage}.model" if model else "language"


def _checked(field: str, build: Callable[[], T]) -> T:
    try:
        return build()
    except offline.ModelError as e:
        # The worker log has the paths; the room learns the file's name and the fix.
        logger.warning("offline model for %s: %s", field, e)
        raise ParleyError(ErrorCode.MODEL_UNAVAILABLE, field, _without_paths(str(e))) from None


def _without_paths(text: str) -> str:
    """Every absolute path in ``text`` cut to its last part ("…/models/x.gguf" → "x.gguf")."""
    return re.sub(r"(?<![\w.])/(?:[^\s/'\"():,]+/)*([^\s/'\"():,]*)", r"\1", text)


def model_path(name: str | None) -> str | None:
    """A room names an offline model by its place under the worker's models directory."""
    return str(WorkerSettings.from_env().models_dir / name) if name else None


@cache
def segmenter_vad() -> vad.VAD:
    """The VAD that cuts speech into Whisper segments, one per process.

    Shorter silence than the session's VAD (0.55 s) so the final transcript is ready by the
    time the session decides the turn ended; a pause mid-sentence only splits the turn into
    two finals, which livekit-agents joins.
    """
    return silero.VAD.load(min_silence_duration=0.3)


def stt(
    s: STTStage, language: str, interim_interval: float = 1.0, gate: bool = False
) -> offline.STT:
    """``gate``: segment with the level gate (``adaptive_vad``) too, or over a TV the
    segment, and its final transcript, would never end."""
    return _checked(
        _model_error_field("stt", s.model),
        lambda: offline.STT(
            vad=room_vad(segmenter_vad(), gate, None),
            model=model_path(s.model),
            language=language,
            interim_interval=interim_interval,
        ),
    )


def llm(s: LLMStage) -> offline.LLM:
    return _checked(
        _model_error_field("llm", s.model),
        lambda: offline.LLM(model=model_path(s.model), **present(temperature=s.temperature)),
    )


def tts(s: TTSStage, language: str) -> offline.TTS:
    return _checked(
        _model_error_field("tts", s.model, s.voice),
        lambda: offline.TTS(
            model=model_path(s.model), voice=s.voice, language=language, **present(speed=s.speed)
        ),
    )


def preload(config: RoomConfig) -> None:
    """Loads the models of the config's offline stages (and the local end-of-turn model)."""
    p = config.pipeline
    if not isinstance(p, CascadePipeline):
        return
    if p.stt.provider == "offline":
        stt(p.stt, config.language)
        local_inference.init_eot()
    if p.llm.provider == "offline":
        llm(p.llm)
    if p.tts.provider == "offline":
        tts(p.tts, config.language)
