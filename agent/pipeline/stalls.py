"""A cloud stage that goes quiet is cut off: after ``STALL_S`` without an answer its request
raises livekit-agents' ``APITimeoutError``, so the session's retries and a ``FallbackAdapter``
act on it, instead of the user waiting out the provider's own, longer bound (livekit-agents'
10 s default; livekit-plugins-openai's TTS reads for 30 s and bounds only the connection
by the request's timeout)."""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

from livekit.agents import APIConnectOptions, APITimeoutError, stt, tts, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr
from livekit.agents.voice.agent_session import SessionConnectOptions
from livekit.plugins import openai
from livekit.plugins.openai import tts as openai_tts

from ..config.models import CascadePipeline, LLMChoice, STTChoice, TTSChoice

STALL_S = 5.0
"""Generous for a first token, a transcript or a first audio chunk (≈ 0.1–1 s when well)."""
CLOUD = APIConnectOptions(timeout=STALL_S)


def session_options(p: CascadePipeline) -> SessionConnectOptions:
    """Cloud stages are bound by ``STALL_S``; offline ones keep livekit-agents' 10 s (a busy
    CPU, not a stall, is what slows them)."""

    def bound(c: STTChoice | LLMChoice | TTSChoice) -> APIConnectOptions:
        return DEFAULT_API_CONNECT_OPTIONS if c.provider == "offline" else CLOUD

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
