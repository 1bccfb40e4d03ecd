"""OpenAI's realtime translation (``gpt-realtime-translate``) as an interpreter backend.

livekit-plugins-openai 1.8.9 does not speak this protocol, so the client is here, from
OpenAI's published one (the "Realtime translation" guide and its client and server events),
on the WebSocket ``/v1/realtime/translations?model=``:

- client: ``session.update`` (``audio.output.language``, ``audio.input.transcription``),
  ``session.input_audio_buffer.append`` (base64 24 kHz PCM16 mono), ``session.close`` (the
  server flushes what it still has, then says ``session.closed``);
- server: ``session.created`` / ``session.updated`` / ``session.closed``,
  ``session.input_transcript.delta``, ``session.output_transcript.delta``,
  ``session.output_audio.delta`` (200 ms PCM16 frames) and ``error`` (most are recoverable:
  the session stays open).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from typing import Any

import aiohttp
from livekit import rtc
from livekit.agents import utils

from .log import logger
from .translation import (
    CONNECT_TIMEOUT_S,
    SAMPLE_RATE,
    SourceText,
    TranslatedAudio,
    TranslatedText,
    TranslationBackend,
    TranslationError,
    TranslationEvent,
    TranslationSession,
    _Meter,
)

DEFAULT_MODEL = "gpt-realtime-translate"
TRANSCRIPTION_MODEL = "gpt-realtime-whisper"
"""The model the guide names for the optional source transcript."""


def _error_text(event: dict[str, Any]) -> str:
    """The error's kind, never its message: a provider may quote what it heard."""
    error = event.get("error") or {}
    parts = [str(error.get(k)) for k in ("type", "code", "param") if error.get(k)]
    return " ".join(parts) or "error"


def _parse(event: dict[str, Any]) -> TranslationEvent | None:
    kind, elapsed = event.get("type"), event.get("elapsed_ms")
    if kind == "session.input_transcript.delta":
        return SourceText(str(event.get("delta", "")), elapsed)
    if kind == "session.output_transcript.delta":
        return TranslatedText(str(event.get("delta", "")), elapsed)
    if kind == "session.output_audio.delta":
        data = base64.b64decode(event.get("delta", ""))
        channels = int(event.get("channels") or 1)
        samples = len(data) // (2 * channels)
        rate = int(event.get("sample_rate") or SAMPLE_RATE)
        frame = rtc.AudioFrame(data[: samples * 2 * channels], rate, channels, samples)
        return TranslatedAudio(frame, elapsed)
    return None  # session.created/updated and events newer than this client


class OpenAITranslationSession(TranslationSession):
    def __init__(self, ws: aiohttp.ClientWebSocketResponse, on_sent: _Meter) -> None:
        self._ws = ws
        super().__init__(on_sent)

    @classmethod
    async def open(
        cls,
        http: aiohttp.ClientSession,
        url: str,
        api_key: str,
        target: str,
        *,
        transcription_model: str | None,
        on_sent: _Meter,
    ) -> OpenAITranslationSession:
        """Connects and sets the target language (and the source transcript); returns once
        the server has taken both."""
        transcription = {"model": transcription_model} if transcription_model else None
        update = {
            "type": "session.update",
            "session": {
                "audio": {"input": {"transcription": transcription}, "output": {"language": target}}
            },
        }
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                ws = await http.ws_connect(
                    url, headers={"Authorization": f"Bearer {api_key}"}, max_msg_size=0
                )
                await ws.send_str(json.dumps(update))
                while True:
                    msg = await ws.receive()
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        raise TranslationError(f"the session closed while opening ({msg.type})")
                    event = json.loads(msg.data)
                    if event.get("type") == "error":
                        await ws.close()
                        raise TranslationError(f"the session was refused: {_error_text(event)}")
                    if event.get("type") == "session.updated":
                        return cls(ws, on_sent)
        except aiohttp.WSServerHandshakeError as e:
            raise TranslationError(f"the connection was refused (HTTP {e.status})") from None
        except (aiohttp.ClientError, TimeoutError) as e:
            raise TranslationError(f"cannot connect ({type(e).__name__})") from None

    async def _send_audio(self, chunk: bytes) -> None:
        audio = base64.b64encode(chunk).decode()
        await self._ws.send_str(
            json.dumps({"type": "session.input_audio_buffer.append", "audio": audio})
        )

    async def _send_close(self) -> None:
        await self._ws.send_str(json.dumps({"type": "session.close"}))

    async def _receive(self) -> None:
        try:
            async for msg in self._ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                event = json.loads(msg.data)
                kind = event.get("type")
                if kind == "session.closed":
                    return
                if kind == "error":  # the session stays open: say so, and go on
                    logger.warning("translation session error: %s", _error_text(event))
                elif (parsed := _parse(event)) is not None:
                    self._put(parsed)
        except (aiohttp.ClientError, ConnectionError) as e:
            raise TranslationError(f"the connection was lost ({type(e).__name__})") from None
        if not self._closing:
            raise TranslationError("the connection was lost")

    async def _disconnect(self) -> None:
        await self._ws.close()


class OpenAITranslationBackend(TranslationBackend):
    """Interprets with OpenAI's translation sessions."""

    provider = "openai"

    def __init__(
        self,
        *,
        model: str = DEFAULT_MODEL,
        api_key: str | None = None,
        base_url: str | None = None,
        transcription_model: str = TRANSCRIPTION_MODEL,
        http_session: aiohttp.ClientSession | None = None,
    ) -> None:
        """``api_key`` / ``base_url`` default to ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``
        (else ``https://api.openai.com/v1``), as livekit-plugins-openai's do."""
        super().__init__()
        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            raise ValueError("OpenAI translation needs an API key: set OPENAI_API_KEY")
        self.model, self._api_key = model, key
        base = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        base = base.rstrip("/").replace("https://", "wss://", 1).replace("http://", "ws://", 1)
        self._url = f"{base}/realtime/translations?model={model}"
        self._transcription_model = transcription_model
        self._http = http_session

    async def session(self, source: str, target: str, *, transcribe: bool) -> TranslationSession:
        return await OpenAITranslationSession.open(
            self._http or utils.http_context.http_session(),
            self._url,
            self._api_key,
            target,
            transcription_model=self._transcription_model if transcribe else None,
            on_sent=self._meter,
        )
