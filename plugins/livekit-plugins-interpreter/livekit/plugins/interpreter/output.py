"""One published audio track per target language, speaking queued translations in order."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterable, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from livekit import rtc
from livekit.agents import tts, utils

from .log import logger

TRACK_PREFIX = "interpretation-"


@dataclass
class Unit:
    """A piece of one speaker's utterance, on its way to one target language."""

    speaker: str
    source: str
    target: str
    segment_id: str
    translation: asyncio.Future[str]
    """The translated text (complete before speaking in a cascade; alongside audio otherwise)."""
    speech_start: float
    """Wall-clock start of the utterance this unit belongs to."""
    speech_end: float | None = None
    """Set on the utterance's last unit: wall-clock end of its speech."""
    first: bool = False
    """The utterance's first unit (its start lag is measured)."""
    cut_at: float = field(default_factory=time.time)
    """When the words of this unit were recognised and cut from the transcript."""
    translated_at: float | None = None
    audio: AsyncIterable[rtc.AudioFrame] | None = None
    """Speech already in the target language (speech-to-speech models); None → TTS."""
    played: asyncio.Future[tuple[float, float] | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    """(first frame, last frame) wall-clock times once spoken; None if nothing was said."""


class InterpretationTrack:
    """Speaks the units queued for one language, one after the other."""

    def __init__(
        self,
        room: rtc.Room,
        language: str,
        speech: tts.TTS[Any] | None,
        sample_rate: int,
        on_spoken: Callable[[Unit, str], Awaitable[None]],
        *,
        max_queued: int = 16,
        on_drop: Callable[[Unit], None] | None = None,
        on_outage: Callable[[str | None], None] | None = None,
    ) -> None:
        """``speech`` voices text units; without it (speech-to-speech) units bring their own
        audio. Either way it arrives at ``sample_rate``. ``on_outage`` hears the error's type
        when a unit cannot be voiced, and None when one is voiced again: a failing voice
        skips units, it never ends the track."""
        self.language = language
        self.name = TRACK_PREFIX + language
        self._room, self._tts, self._on_spoken = room, speech, on_spoken
        self._source = rtc.AudioSource(sample_rate, 1)
        self._queue: asyncio.Queue[Unit] = asyncio.Queue()
        self._max_queued, self._on_drop = max_queued, on_drop
        self._on_outage = on_outage
        self._down = False
        self._task: asyncio.Task[None] | None = None
        self.sid = ""

    async def publish(self) -> None:
        track = rtc.LocalAudioTrack.create_audio_track(self.name, self._source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        publication = await self._room.local_participant.publish_track(track, options)
        self.sid = publication.sid
        self._task = asyncio.create_task(self._play(), name=f"play {self.name}")

    def enqueue(self, unit: Unit) -> None:
        """Queues ``unit``; with the queue full, the oldest waiting unit is dropped instead
        of letting the track fall ever further behind."""
        if self._queue.qsize() >= self._max_queued:
            oldest = self._queue.get_nowait()
            if not oldest.played.done():
                oldest.played.set_result(None)
            logger.warning("interpretation into %s is behind: a unit was dropped", self.language)
            if self._on_drop:
                self._on_drop(oldest)
        self._queue.put_nowait(unit)

    async def _play(self) -> None:
        while True:
            unit = await self._queue.get()
            try:
                await self._say(unit)
            except Exception as e:  # this unit is lost; the ones behind it are not
                logger.warning(
                    "interpretation into %s: a unit failed (%s)", self.language, type(e).__name__
                )
                self._outage(type(e).__name__)
            else:
                self._outage(None)
            finally:
                if not unit.played.done():
                    unit.played.set_result(None)

    def _outage(self, error: str | None) -> None:
        if (error is not None) != self._down:
            self._down = error is not None
            if self._on_outage is not None:
                self._on_outage(error)

    async def _say(self, unit: Unit) -> None:
        if unit.audio is not None:
            await self._relay(unit, unit.audio)
            return
        text = await unit.translation
        unit.translated_at = unit.translated_at or time.time()
        if not text or self._tts is None:
            return
        await self._on_spoken(unit, text)
        await self._relay(unit, (audio.frame async for audio in self._tts.synthesize(text)))

    async def _relay(self, unit: Unit, frames: AsyncIterable[rtc.AudioFrame]) -> None:
        first = None
        async for frame in frames:
            first = first or time.time()
            await self._source.capture_frame(frame)
        # capture_frame returns once a frame is queued; playout ends when the queue drains.
        await self._source.wait_for_playout()
        if not unit.played.done():
            unit.played.set_result((first, time.time()) if first is not None else None)
        if unit.audio is not None:  # speech-to-speech: the text is complete by now
            with contextlib.suppress(Exception):
                text = await unit.translation
                if text:
                    await self._on_spoken(unit, text)

    async def aclose(self) -> None:
        if self._task is not None:
            await utils.aio.cancel_and_wait(self._task)
        await self._source.aclose()
