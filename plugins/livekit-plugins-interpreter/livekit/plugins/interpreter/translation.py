"""OpenAI's realtime translation (``gpt-realtime-translate``) as an interpreter backend.

A translation session is not a conversation: it hears one speaker's continuous audio and
speaks the translation into one language *while the speaker still talks*, with transcript
deltas of the source and of the translation. There are no turns and no ``response.create``.
livekit-plugins-openai 1.8.9 does not speak this protocol, so the client is here, from
OpenAI's published one (the "Realtime translation" guide and its client and server events):

- client: ``session.update`` (``audio.output.language``, ``audio.input.transcription``),
  ``session.input_audio_buffer.append`` (base64 24 kHz PCM16 mono, in 200 ms chunks, silence
  included: the session's clock is the audio it is sent), ``session.close`` (the server
  flushes what it still has, then says ``session.closed``);
- server: ``session.created`` / ``session.updated`` / ``session.closed``,
  ``session.input_transcript.delta``, ``session.output_transcript.delta``,
  ``session.output_audio.delta`` (200 ms PCM16 frames) and ``error`` (most are recoverable:
  the session stays open).

Billed by the minute of audio it hears; ``usage()`` says how many the backend's sessions
heard.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
from livekit import rtc
from livekit.agents import utils
from pydantic import BaseModel

from .log import logger

SAMPLE_RATE = 24_000
"""What the WebSocket accepts (PCM16 mono) and speaks."""
CHUNK_MS = 200
"""The engine's frame: shorter appends are buffered by the server, longer ones split."""
DEFAULT_MODEL = "gpt-realtime-translate"
TRANSCRIPTION_MODEL = "gpt-realtime-whisper"
"""The model the guide names for the optional source transcript."""
CONNECT_TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 5.0
"""How long ``aclose`` waits for the server to flush the last translation."""


@dataclass(frozen=True)
class SourceText:
    """Append-only text of what the speaker said (with source transcription on)."""

    delta: str
    elapsed_ms: int | None


@dataclass(frozen=True)
class TranslatedText:
    """Append-only text of the translated speech."""

    delta: str
    elapsed_ms: int | None


@dataclass(frozen=True)
class TranslatedAudio:
    frame: rtc.AudioFrame
    elapsed_ms: int | None


TranslationEvent = SourceText | TranslatedText | TranslatedAudio


class TranslationError(Exception):
    """The session cannot go on: refused, closed by the server, or the connection lost."""


class TranslationUsage(BaseModel):
    """What a translation backend's sessions heard, as a session report bills it."""

    type: Literal["translation_usage"] = "translation_usage"
    provider: str
    model: str
    audio_duration: float = 0.0
    """Seconds of source audio sent, over every session."""


def _error_text(event: dict[str, Any]) -> str:
    """The error's kind, never its message: a provider may quote what it heard."""
    error = event.get("error") or {}
    parts = [str(error.get(k)) for k in ("type", "code", "param") if error.get(k)]
    return " ".join(parts) or "error"


class TranslationSession:
    """One speaker's audio into one target language. Feed frames with ``push_audio``;
    read what comes back from ``events()`` until it ends (after ``aclose``) or raises
    ``TranslationError``."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, on_sent: _Meter) -> None:
        self._ws, self._on_sent = ws, on_sent
        self._pending = bytearray()
        self._outbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._events: asyncio.Queue[TranslationEvent | TranslationError | None] = asyncio.Queue()
        self._closing = False
        self._sender = asyncio.create_task(self._send_loop(), name="translation send")
        self._receiver = asyncio.create_task(self._recv_loop(), name="translation recv")

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
    ) -> TranslationSession:
        """Connects and sets the target language (and the source transcript); returns once
        the server has taken both."""
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                ws = await http.ws_connect(
                    url, headers={"Authorization": f"Bearer {api_key}"}, max_msg_size=0
                )
                update: dict[str, Any] = {
                    "type": "session.update",
                    "session": {
                        "audio": {
                            "input": {
                                "transcription": {"model": transcription_model}
                                if transcription_model
                                else None
                            },
                            "output": {"language": target},
                        }
                    },
                }
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

    def push_audio(self, frame: rtc.AudioFrame) -> None:
        """24 kHz mono frames of any length; sent on in 200 ms chunks."""
        if frame.sample_rate != SAMPLE_RATE or frame.num_channels != 1:
            raise ValueError(
                f"translation sessions take {SAMPLE_RATE} Hz mono audio, got "
                f"{frame.sample_rate} Hz × {frame.num_channels}"
            )
        if self._closing:
            return
        self._pending += frame.data.tobytes()
        chunk = SAMPLE_RATE * 2 * CHUNK_MS // 1000
        while len(self._pending) >= chunk:
            data, self._pending = bytes(self._pending[:chunk]), self._pending[chunk:]
            self._outbox.put_nowait(
                {
                    "type": "session.input_audio_buffer.append",
                    "audio": base64.b64encode(data).decode(),
                }
            )
            self._on_sent(CHUNK_MS / 1000)

    async def recv(self) -> TranslationEvent | None:
        """The next event; None once the session has ended. Safe to cancel (a timeout loses
        nothing), unlike an async generator, which a cancelled step closes."""
        event = await self._events.get()
        if event is None:
            self._events.put_nowait(None)  # every later call ends too
        if isinstance(event, TranslationError):
            raise event
        return event

    async def events(self) -> AsyncIterator[TranslationEvent]:
        while (event := await self.recv()) is not None:
            yield event

    async def _send_loop(self) -> None:
        while (event := await self._outbox.get()) is not None:
            try:
                await self._ws.send_str(json.dumps(event))
            except (aiohttp.ClientError, ConnectionError):
                return  # the receiver reports the lost connection

    async def _recv_loop(self) -> None:
        outcome: TranslationError | None = None
        try:
            async for msg in self._ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                event = json.loads(msg.data)
                kind = event.get("type")
                if kind == "session.closed":
                    break
                if kind == "error":  # the session stays open: say so, and go on
                    logger.warning("translation session error: %s", _error_text(event))
                elif (parsed := _parse(event)) is not None:
                    self._events.put_nowait(parsed)
            else:
                if not self._closing:
                    outcome = TranslationError("the connection was lost")
        except (aiohttp.ClientError, ConnectionError) as e:
            outcome = TranslationError(f"the connection was lost ({type(e).__name__})")
        if outcome is None and not self._closing:
            outcome = TranslationError("the server closed the session")
        self._events.put_nowait(outcome)

    async def aclose(self) -> None:
        """Flushes: the server translates what it still has, then closes the session."""
        if not self._closing:
            self._closing = True
            self._outbox.put_nowait({"type": "session.close"})
            self._outbox.put_nowait(None)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT_S):
                    await asyncio.shield(self._receiver)
        await utils.aio.cancel_and_wait(self._sender, self._receiver)
        await self._ws.close()
        self._events.put_nowait(None)


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
        return TranslatedAudio(
            rtc.AudioFrame(data[: samples * 2 * channels], rate, channels, samples), elapsed
        )
    return None  # session.created/updated and events newer than this client


class _Meter:
    """Counts the seconds of audio a backend's sessions send."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self, seconds: float) -> None:
        self.seconds += seconds


class OpenAITranslationBackend:
    """Interprets with OpenAI's translation sessions: one per speaker and target language,
    fed that speaker's audio continuously; the translated speech goes straight to the
    target's track, its transcript to the captions."""

    sample_rate = SAMPLE_RATE

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
        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            raise ValueError("OpenAI translation needs an API key: set OPENAI_API_KEY")
        self.model, self._api_key = model, key
        base = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        base = base.rstrip("/").replace("https://", "wss://", 1).replace("http://", "ws://", 1)
        self._url = f"{base}/realtime/translations?model={model}"
        self._transcription_model = transcription_model
        self._http = http_session
        self._meter = _Meter()

    @property
    def provider(self) -> str:
        return "openai"

    def unsupported(self, source: str, target: str) -> str | None:
        return None  # the service detects the source; a target it lacks refuses the session

    async def session(self, source: str, target: str, *, transcribe: bool) -> TranslationSession:
        """``transcribe``: also send the source transcript (one session per speaker needs
        it, for the captions of the original)."""
        return await TranslationSession.open(
            self._http or utils.http_context.http_session(),
            self._url,
            self._api_key,
            target,
            transcription_model=self._transcription_model if transcribe else None,
            on_sent=self._meter,
        )

    def usage(self) -> list[TranslationUsage]:
        if not self._meter.seconds:
            return []
        return [
            TranslationUsage(
                provider=self.provider, model=self.model, audio_duration=self._meter.seconds
            )
        ]
