"""Room config pipeline → livekit-agents components (the real provider plugins).

Base URLs come from the environment (``OPENAI_BASE_URL``, ``GOOGLE_GEMINI_BASE_URL``), which
the plugins honour themselves: that is how users reach gateways and how tests reach fakes.
"""

from __future__ import annotations

from typing import Any

from livekit.agents import AgentSession, llm, stt, tts, vad
from livekit.agents.voice.turn import TurnHandlingOptions
from livekit.plugins import google, openai

from ..config.models import (
    CascadePipeline,
    LLMStage,
    RealtimePipeline,
    RoomConfig,
    STTStage,
    TTSStage,
    TurnTaking,
)


def present(**options: Any) -> dict[str, Any]:
    """Drops unset options: None in the config means "the plugin's own default"."""
    return {k: v for k, v in options.items() if v is not None}


def realtime_model(p: RealtimePipeline, config: RoomConfig) -> llm.RealtimeModel:
    if p.provider == "openai":
        return openai.realtime.RealtimeModel(
            model=p.model or "gpt-realtime", voice=p.voice or "marin"
        )
    return google.realtime.RealtimeModel(
        **present(model=p.model), voice=p.voice or "Puck", language=config.language
    )


def stt_stage(s: STTStage, language: str) -> stt.STT[Any]:
    if s.provider == "openai":
        return openai.STT(**present(model=s.model), language=language)
    return google.STT(**present(model=s.model), languages=language)


def llm_stage(s: LLMStage) -> llm.LLM[Any]:
    if s.provider == "openai":
        return openai.LLM(**present(model=s.model, temperature=s.temperature))
    return google.LLM(**present(model=s.model, temperature=s.temperature))


def tts_stage(s: TTSStage, language: str) -> tts.TTS[Any]:
    if s.provider == "openai":
        return openai.TTS(**present(model=s.model, voice=s.voice))
    return google.TTS(**present(model_name=s.model, voice_name=s.voice), language=language)


def turn_handling(t: TurnTaking) -> TurnHandlingOptions:
    """Only the values the room set: livekit-agents fills in its own defaults for the rest."""
    options: TurnHandlingOptions = {}
    endpointing = t.endpointing.model_dump(exclude_none=True)
    interruption = t.interruption.model_dump(exclude_none=True)
    if endpointing:
        options["endpointing"] = endpointing  # type: ignore[typeddict-item]
    if interruption:
        options["interruption"] = interruption  # type: ignore[typeddict-item]
    return options


def build_session(config: RoomConfig, vad_model: vad.VAD) -> AgentSession[None]:
    """An AgentSession wired to the room's pipeline; nothing is connected yet."""
    p = config.pipeline
    if isinstance(p, RealtimePipeline):
        # The provider detects turns server-side; a local VAD would only add CPU per room.
        return AgentSession(
            llm=realtime_model(p, config),
            vad=None,
            turn_handling={"turn_detection": "realtime_llm"},
        )
    assert isinstance(p, CascadePipeline)
    return AgentSession(
        stt=stt_stage(p.stt, config.language),
        llm=llm_stage(p.llm),
        tts=tts_stage(p.tts, config.language),
        vad=vad_model,
        turn_handling=turn_handling(config.turn_taking),
    )
