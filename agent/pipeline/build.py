"""Room config pipeline → livekit-agents components (the real provider plugins).

Base URLs come from the environment (``OPENAI_BASE_URL``, ``GOOGLE_GEMINI_BASE_URL``), which
the plugins honour themselves: that is how users reach gateways and how tests reach fakes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from google.genai import types as genai_types
from livekit.agents import AgentSession, llm, stt, tts, vad
from livekit.agents.voice.turn import TurnHandlingOptions
from livekit.plugins import google, openai

from ..config.models import (
    CascadePipeline,
    LLMChoice,
    LLMStage,
    RealtimePipeline,
    RoomConfig,
    STTChoice,
    STTStage,
    TTSChoice,
    TTSStage,
    TurnTaking,
    in_order,
)
from . import offline, quiet, stalls
from .adaptive_vad import room_vad
from .completeness import EotObserver, TranscriptTail
from .dead_air import DeadAirGuard
from .denoise import NoiseSuppressed
from .early import SILENCE_S
from .endofturn import ParleyTurnDetector
from .options import present
from .turns import STOCK, listening, tuned, turn_values


def realtime_model(
    p: RealtimePipeline, config: RoomConfig, local_turns: bool = False
) -> llm.RealtimeModel:
    """``local_turns``: the session's own VAD and end-of-turn model end the user's turns.
    OpenAI's plugin turns its server VAD off itself once the session has a turn detector, and
    the answer starts early unless the preset's ``preemptive`` is off (:mod:`.early`);
    Gemini's must be built with automatic activity detection off (the plugin then sends
    ``activityStart`` / ``activityEnd`` on the session's word)."""
    if p.provider == "openai":
        early = local_turns and listening(config.turn_taking).preemptive != "off"
        heard = offline.segmenter_vad()
        return quiet.OpenAIRealtime(
            room_vad(heard, gate=False, min_silence=SILENCE_S) if early else heard,
            early=early,
            model=p.model or "gpt-realtime",
            voice=p.voice or "marin",
        )
    manual = genai_types.RealtimeInputConfig(
        automatic_activity_detection=genai_types.AutomaticActivityDetection(disabled=True)
    )
    return quiet.GeminiRealtime(
        offline.segmenter_vad(),
        **present(model=p.model, realtime_input_config=manual if local_turns else None),
        voice=p.voice or "Puck",
        language=config.language,
    )


def stt_stage(
    s: STTStage,
    language: str,
    *,
    interim_interval: float = 1.0,
    gate: bool = False,
    accurate: bool = False,
    at: str = "pipeline.stt",
) -> stt.STT[Any]:
    """``interim_interval``: how often the offline STT re-transcribes ongoing speech;
    ``gate``: it hears speech through the room's level gate, as the session's VAD does;
    ``accurate``: its packaged English model is base, not tiny.en.
    With fallbacks: livekit-agents' ``FallbackAdapter`` over them all (a non-streaming one
    hears through a VAD). Behind a non-streaming first choice the adapter serves whole
    utterances, so the one that fails is heard by the next choice instead of being lost with
    the stream in flight. A cloud STT's stream is watched for a provider gone quiet
    (``stalls.StallWatch``)."""

    def one(c: STTChoice, where: str) -> stt.STT[Any]:
        if c.provider == "offline":
            return offline.stt(c, language, interim_interval, gate, accurate, at=where)
        cloud: stt.STT[Any] = (
            stalls.OpenAISTT(**present(model=c.model), language=language)
            if c.provider == "openai"
            else google.STT(**present(model=c.model), languages=language)
        )
        return stalls.StallWatch(cloud, offline.segmenter_vad())

    built = [one(c, where) for c, where in in_order(s, s.fallback, at)]
    if len(built) == 1:
        return built[0]
    segmenter = offline.segmenter_vad()
    # No retry of a failed choice, and the stage's cloud bound: a fallback is there to
    # answer instead (a hung Whisper would otherwise hold two utterances for 10 s each).
    adapter = stt.FallbackAdapter(
        built, vad=segmenter, attempt_timeout=stalls.STALL_S, max_retry_per_stt=0
    )
    if built[0].capabilities.streaming:
        return adapter
    return stt.StreamAdapter(stt=adapter, vad=segmenter)


def llm_stage(s: LLMStage, at: str = "pipeline.llm") -> llm.LLM[Any]:
    def one(c: LLMChoice, where: str) -> llm.LLM[Any]:
        if c.provider == "offline":
            return offline.llm(c, where)
        if c.provider == "openai":
            return openai.LLM(**present(model=c.model, temperature=c.temperature))
        return google.LLM(**present(model=c.model, temperature=c.temperature))

    built = [one(c, where) for c, where in in_order(s, s.fallback, at)]
    return built[0] if len(built) == 1 else llm.FallbackAdapter(built)


def tts_stage(s: TTSStage, language: str, at: str = "pipeline.tts") -> tts.TTS[Any]:
    def one(c: TTSChoice, where: str) -> tts.TTS[Any]:
        if c.provider == "offline":
            return offline.tts(c, language, where)
        if c.provider == "openai":
            return stalls.OpenAITTS(**present(model=c.model, voice=c.voice, speed=c.speed))
        return google.TTS(
            **present(model_name=c.model, voice_name=c.voice, speaking_rate=c.speed),
            language=language,
        )

    built = [one(c, where) for c, where in in_order(s, s.fallback, at)]
    if len(built) == 1:
        return built[0]
    # One quick retry (0.1 s) rides out a network blip; livekit-agents' second waits 2 s
    # more while the user hears nothing, and a fallback is there to answer instead. A local
    # voice has no network to blip: its retry would only wait out a hung engine again.
    retries = 0 if s.provider == "offline" else 1
    return tts.FallbackAdapter(built, max_retry_per_tts=retries)


@dataclass(frozen=True)
class CascadeStages:
    stt: stt.STT[Any]
    llm: llm.LLM[Any]
    tts: tts.TTS[Any]


def cascade_stages(
    p: CascadePipeline, language: str, gate: bool = False, accurate: bool = False
) -> CascadeStages:
    """Builds the three stages; offline ones load their models here (once per process).
    ``accurate``: see :func:`stt_stage`."""
    return CascadeStages(
        stt=stt_stage(p.stt, language, gate=gate, accurate=accurate),
        llm=llm_stage(p.llm),
        tts=tts_stage(p.tts, language),
    )


def turn_handling(
    t: TurnTaking,
    language: str,
    local_eot: bool = False,
    tail: TranscriptTail | None = None,
    observe: EotObserver | None = None,
) -> TurnHandlingOptions:
    """The preset's values and the room's own: livekit-agents fills in its defaults for the rest.

    ``local_eot`` pins an end-of-turn model that runs inside the worker, so an offline room
    never sends audio to LiveKit's inference service (so does Smart Turn, and the
    completeness check on the running transcript ``tail``). ``observe`` sees each prediction.
    """
    listen = listening(t)
    options: TurnHandlingOptions = {}
    if listen.preemptive != STOCK.preemptive:
        options["preemptive_generation"] = {
            "enabled": listen.preemptive != "off",
            "preemptive_tts": listen.preemptive == "llm-tts",
        }
    end_of_turn = listen.end_of_turn
    if local_eot or tail is not None or end_of_turn != "livekit" or observe is not None:
        options["turn_detection"] = ParleyTurnDetector(end_of_turn, language, tail, observe)
    endpointing, interruption = turn_values(t)
    if endpointing:
        options["endpointing"] = endpointing
    if interruption:
        options["interruption"] = interruption
    return options


async def build_session(
    config: RoomConfig,
    vad_model: vad.VAD,
    observe: EotObserver | None = None,
    *,
    accurate: bool = False,
) -> AgentSession[None]:
    """An AgentSession wired to the room's pipeline; nothing is connected yet (then
    :func:`listen_through` once it has started). ``accurate``: see :func:`stt_stage`."""
    p = config.pipeline
    t = config.turn_taking
    listen = listening(t)
    if isinstance(p, RealtimePipeline):
        if listen.detection == "provider":
            # The provider detects turns server-side; a local VAD would only add CPU per room.
            return AgentSession(
                llm=realtime_model(p, config),
                vad=None,
                turn_handling={"turn_detection": "realtime_llm"},
            )
        # The user's words arrive only once the turn is committed: no transcript to check.
        return AgentSession(
            llm=realtime_model(p, config, local_turns=True),
            vad=room_vad(vad_model, listen.adaptive_vad, listen.vad_silence),
            turn_handling=turn_handling(t, config.language, local_eot=True, observe=observe),
        )
    assert isinstance(p, CascadePipeline)
    # Loading a local model takes seconds of CPU: keep the room's event loop responsive.
    stages = await asyncio.to_thread(
        cascade_stages, p, config.language, listen.adaptive_vad, accurate
    )
    tail = TranscriptTail(config.language) if tuned(t) else None
    session: AgentSession[None] = AgentSession(
        stt=stages.stt,
        llm=stages.llm,
        tts=stages.tts,
        vad=room_vad(vad_model, listen.adaptive_vad, listen.vad_silence),
        turn_handling=turn_handling(t, config.language, p.stt.provider == "offline", tail, observe),
        conn_options=stalls.session_options(p),
    )
    if tail is not None:
        session.on("user_input_transcribed", tail.on_transcribed)
        session.on("conversation_item_added", tail.on_item)
        session.on("user_state_changed", tail.on_user_state)
    if listen.dead_air is not None:
        DeadAirGuard(session, listen.dead_air)
    return session


def listen_through(session: AgentSession[None], config: RoomConfig) -> None:
    """Once the session has its audio input (it starts with it): noise suppression in front,
    when the room's turn-taking wants it."""
    if not (
        isinstance(config.pipeline, CascadePipeline)
        and listening(config.turn_taking).noise_suppression
    ):
        return
    source = session.input.audio
    if source is not None and not isinstance(source, NoiseSuppressed):
        session.input.audio = NoiseSuppressed(source)
