"""Gemini Live's translation (``gemini-3.5-live-translate-preview``) as an interpreter backend.

The Live API's translation configuration (``translation_config.target_language_code``, in
google-genai's ``LiveConnectConfig``) makes a Live session an interpreter: it takes a
continuous audio stream and answers with translated audio and transcriptions as the speaker
talks, without turns. The connection is google-genai's own (``client.aio.live.connect``);
audio goes up as ``realtime_input`` PCM (24 kHz, declared in its MIME type), translations
come back as ``server_content``: ``model_turn`` audio parts, ``output_transcription`` and
``input_transcription``. ``audio_stream_end`` asks it to flush.

Needs google-genai: ``pip install "livekit-plugins-interpreter[gemini]"``; the module is not
imported by the package itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

from google import genai
from google.genai import errors
from google.genai import types as genai_types
from livekit import rtc

from .translation import (
    CONNECT_TIMEOUT_S,
    SAMPLE_RATE,
    SourceText,
    TranslatedAudio,
    TranslatedText,
    TranslationBackend,
    TranslationError,
    TranslationSession,
    _Meter,
)

DEFAULT_MODEL = "gemini-3.5-live-translate-preview"
NORMAL_CLOSE = 1000
MIME_TYPE = f"audio/pcm;rate={SAMPLE_RATE}"


def _rate(mime_type: str | None) -> int:
    """``audio/pcm;rate=24000`` → 24000 (the Live API's output is 24 kHz unless it says)."""
    for part in (mime_type or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == "rate" and value.isdigit():
            return int(value)
    return SAMPLE_RATE


class GeminiTranslationSession(TranslationSession):
    def __init__(
        self,
        session: genai.live.AsyncSession,
        stack: contextlib.AsyncExitStack,
        on_sent: _Meter,
    ) -> None:
        self._session, self._stack = session, stack
        super().__init__(on_sent)

    @classmethod
    async def open(
        cls,
        client: genai.Client,
        model: str,
        target: str,
        *,
        transcribe: bool,
        on_sent: _Meter,
    ) -> GeminiTranslationSession:
        config = genai_types.LiveConnectConfig(
            response_modalities=[genai_types.Modality.AUDIO],
            input_audio_transcription=genai_types.AudioTranscriptionConfig()
            if transcribe
            else None,
            output_audio_transcription=genai_types.AudioTranscriptionConfig(),
            translation_config=genai_types.TranslationConfig(target_language_code=target),
        )
        stack = contextlib.AsyncExitStack()
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                session = await stack.enter_async_context(
                    client.aio.live.connect(model=model, config=config)
                )
        except errors.APIError as e:
            await stack.aclose()
            raise TranslationError(f"the session was refused ({e.code})") from None
        except Exception as e:  # websockets' and the TLS layer's own errors
            await stack.aclose()
            raise TranslationError(f"cannot connect ({type(e).__name__})") from None
        return cls(session, stack, on_sent)

    async def _send_audio(self, chunk: bytes) -> None:
        await self._session.send_realtime_input(
            audio=genai_types.Blob(data=chunk, mime_type=MIME_TYPE)
        )

    async def _send_close(self) -> None:
        await self._session.send_realtime_input(audio_stream_end=True)

    async def _receive(self) -> None:
        try:
            while True:  # receive() ends at each turn_complete; the stream goes on
                async for message in self._session.receive():
                    self._relay(message)
        except errors.APIError as e:
            if e.code == NORMAL_CLOSE and self._closing:
                return
            raise TranslationError(f"the connection was lost ({e.code})") from None
        except Exception as e:  # the socket under google-genai
            raise TranslationError(f"the connection was lost ({type(e).__name__})") from None

    def _relay(self, message: genai_types.LiveServerMessage) -> None:
        content = message.server_content
        if content is None:
            return
        if content.input_transcription and content.input_transcription.text:
            self._put(SourceText(content.input_transcription.text))
        if content.output_transcription and content.output_transcription.text:
            self._put(TranslatedText(content.output_transcription.text))
        for part in content.model_turn.parts or [] if content.model_turn else []:
            blob = part.inline_data
            if blob is None or not blob.data:
                continue
            samples = len(blob.data) // 2
            frame = rtc.AudioFrame(blob.data[: samples * 2], _rate(blob.mime_type), 1, samples)
            self._put(TranslatedAudio(frame))

    async def _disconnect(self) -> None:
        await self._stack.aclose()


class GeminiTranslationBackend(TranslationBackend):
    """Interprets with Gemini Live translation sessions."""

    provider = "google"

    def __init__(self, *, model: str = DEFAULT_MODEL, api_key: str | None = None) -> None:
        """``api_key`` defaults to ``GOOGLE_API_KEY``; google-genai reads its base URL from
        ``GOOGLE_GEMINI_BASE_URL`` (gateways, local fakes)."""
        super().__init__()
        key = api_key or os.environ.get("GOOGLE_API_KEY")
        if not key:
            raise ValueError("Gemini translation needs an API key: set GOOGLE_API_KEY")
        self.model = model
        self._client = genai.Client(api_key=key)

    async def session(self, source: str, target: str, *, transcribe: bool) -> TranslationSession:
        return await GeminiTranslationSession.open(
            self._client, self.model, target, transcribe=transcribe, on_sent=self._meter
        )
