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
from ..config.models import (
    CascadePipeline,
    LLMChoice,
    RoomConfig,
    STTChoice,
    TTSChoice,
    in_order,
)
from ..settings import WorkerSettings
from .adaptive_vad import room_vad
from .options import present

logger = logging.getLogger("parley")

T = TypeVar("T")


def _model_error_field(at: str, model: str | None, voice: str | None = None) -> str:
    """``at``: where the stage is in the config (``pipeline.stt``, a fallback's
    ``pipeline.stt.fallback.0``). A default model only fails for the language (or a broken
    install); a configured one fails for its own path."""
    if voice:
        return f"{at}.voice"
    return f"{at}.model" if model else "language"


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
    s: STTChoice,
    language: str,
    interim_interval: float = 1.0,
    gate: bool = False,
    accurate: bool = False,
    at: str = "pipeline.stt",
) -> offline.STT:
    """``gate``: segment with the level gate (``adaptive_vad``) too, or over a TV the
    segment, and its final transcript, would never end."""
    return _checked(
        _model_error_field(at, s.model),
        lambda: offline.STT(
            vad=room_vad(segmenter_vad(), gate, None),
            model=model_path(s.model),
            language=language,
            interim_interval=interim_interval,
            accurate=accurate,
        ),
    )


def llm(s: LLMChoice, at: str = "pipeline.llm") -> offline.LLM:
    return _checked(
        _model_error_field(at, s.model),
        lambda: offline.LLM(model=model_path(s.model), **present(temperature=s.temperature)),
    )


def tts(s: TTSChoice, language: str, at: str = "pipeline.tts") -> offline.TTS:
    return _checked(
        _model_error_field(at, s.model, s.voice),
        lambda: offline.TTS(
            model=model_path(s.model), voice=s.voice, language=language, **present(speed=s.speed)
        ),
    )


def preload(config: RoomConfig) -> None:
    """Loads the models of the config's offline stages (and the local end-of-turn model)."""
    p = config.pipeline
    if not isinstance(p, CascadePipeline):
        return
    stts = [(c, at) for c, at in in_order(p.stt, p.stt.fallback, "pipeline.stt") if here(c)]
    for heard, at in stts:
        stt(heard, config.language, at=at)
    if stts:
        local_inference.init_eot()
    for model, at in in_order(p.llm, p.llm.fallback, "pipeline.llm"):
        if here(model):
            llm(model, at)
    for voice, at in in_order(p.tts, p.tts.fallback, "pipeline.tts"):
        if here(voice):
            tts(voice, config.language, at)


def here(c: STTChoice | LLMChoice | TTSChoice) -> bool:
    """Runs on the worker's CPU."""
    return c.provider == "offline"
