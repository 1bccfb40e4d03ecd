"""Translation services as interpreter backends: what every one of them is to the interpreter.

A translation session is not a conversation: it hears one speaker's continuous audio and
speaks the translation into one language *while the speaker still talks*, with transcript
deltas of the source and of the translation; there are no turns. A backend opens one session
per speaker and target language (``TranslationBackend.session``); a session takes 24 kHz
frames (``push_audio``, silence included: the service's clock is the audio it is sent) and
hands back ``SourceText`` / ``TranslatedText`` / ``TranslatedAudio`` events (``recv``) until it
ends or fails with ``TranslationError``. Each service is billed by the minute of audio it
hears; ``usage()`` says how much a backend's sessions heard.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal

from livekit import rtc
from livekit.agents import utils
from pydantic import BaseModel

SAMPLE_RATE = 24_000
"""What the sessions take and speak (PCM16 mono)."""
CHUNK_MS = 200
"""Audio goes out in chunks this long: the services' engines run on 200 ms frames."""
CONNECT_TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 5.0
"""How long ``aclose`` waits for the service to flush the last translation."""


@dataclass(frozen=True)
class SourceText:
    """Append-only text of what the speaker said (when the session transcribes)."""

    delta: str
    elapsed_ms: int | None = None


@dataclass(frozen=True)
class TranslatedText:
    """Append-only text of the translated speech."""

    delta: str
    elapsed_ms: int | None = None


@dataclass(frozen=True)
class TranslatedAudio:
    frame: rtc.AudioFrame
    elapsed_ms: int | None = None


TranslationEvent = SourceText | TranslatedText | TranslatedAudio


class TranslationError(Exception):
    """The session cannot go on: refused, closed by the service, or the connection lost."""


class TranslationUsage(BaseModel):
    """What a translation backend's sessions heard, as a session report bills it."""

    type: Literal["translation_usage"] = "translation_usage"
    provider: str
    model: str
    audio_duration: float = 0.0
    """Seconds of source audio sent, over every session."""


class TranslationSession(ABC):
    """One speaker's audio into one target language, over one service connection."""

    def __init__(self, on_sent: _Meter) -> None:
        self._on_sent = on_sent
        self._pending = bytearray()
        self._outbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._events: asyncio.Queue[TranslationEvent | TranslationError | None] = asyncio.Queue()
        self._closing = False
        self._sender = asyncio.create_task(self._send_loop(), name="translation send")
        self._receiver = asyncio.create_task(self._watch(), name="translation recv")

    # --- what a service's client provides ------------------------------------------------

    @abstractmethod
    async def _send_audio(self, chunk: bytes) -> None: ...

    @abstractmethod
    async def _send_close(self) -> None:
        """Asks the service to flush what it still has and end the session."""

    @abstractmethod
    async def _receive(self) -> None:
        """Hands every event to ``_put`` until the session ends; raises ``TranslationError``
        if the connection fails."""

    @abstractmethod
    async def _disconnect(self) -> None: ...

    # --- the interpreter's side ------------------------------------------------------------

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
            self._outbox.put_nowait(data)
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

    async def aclose(self) -> None:
        """Flushes: the service translates what it still has, then the session ends."""
        if not self._closing:
            self._closing = True
            self._outbox.put_nowait(None)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT_S):
                    await asyncio.shield(self._receiver)
        await utils.aio.cancel_and_wait(self._sender, self._receiver)
        with contextlib.suppress(Exception):  # the connection may be gone already
            await self._disconnect()
        self._events.put_nowait(None)

    def _put(self, event: TranslationEvent) -> None:
        self._events.put_nowait(event)

    async def _send_loop(self) -> None:
        try:
            while (chunk := await self._outbox.get()) is not None:
                await self._send_audio(chunk)
            await self._send_close()
        except Exception:
            return  # the receiver reports the lost connection

    async def _watch(self) -> None:
        outcome: TranslationError | None = None
        try:
            await self._receive()
            if not self._closing:
                outcome = TranslationError("the service closed the session")
        except TranslationError as e:
            outcome = None if self._closing else e
        self._events.put_nowait(outcome)


class _Meter:
    """Counts the seconds of audio a backend's sessions send."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self, seconds: float) -> None:
        self.seconds += seconds


class TranslationBackend(ABC):
    """A translation service: one session per speaker and target language, fed that
    speaker's audio continuously; the translated speech goes straight to the target's track,
    its transcript to the captions."""

    sample_rate = SAMPLE_RATE
    provider: str
    model: str

    def __init__(self) -> None:
        self._meter = _Meter()

    def unsupported(self, source: str, target: str) -> str | None:
        return None  # the services detect the source; a target they lack refuses the session

    @abstractmethod
    async def session(self, source: str, target: str, *, transcribe: bool) -> TranslationSession:
        """``transcribe``: the session also sends the source transcript (one session per
        speaker needs it, for the captions of the original)."""

    def usage(self) -> list[TranslationUsage]:
        if not self._meter.seconds:
            return []
        return [
            TranslationUsage(
                provider=self.provider, model=self.model, audio_duration=self._meter.seconds
            )
        ]
