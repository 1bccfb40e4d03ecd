"""One participant's audio track through one speech-to-text stream, kept alive.

LiveKit's RoomIO links one participant to an AgentSession; a multi-party plugin hears each
participant itself. The track is read at its own rate and the STT stream resamples it to the
rate its model needs (livekit-agents' ``RecognizeStream`` does that), so no rate is assumed
here: Whisper gets 16 kHz, OpenAI 24 kHz.

A stream that fails (after the STT's own retries) is reopened with backoff for as long as the
track lasts: one provider outage must not silence a speaker for the rest of the session. The
caller is told when the speaker stops being heard and when they are heard again, to say so
in the room; what the speaker says while the STT is down is not transcribed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from livekit import rtc
from livekit.agents import stt, utils

from .log import logger


@dataclass(frozen=True)
class Backoff:
    first_s: float = 0.5
    max_s: float = 10.0

    def delay(self, failures: int) -> float:
        return float(min(self.max_s, self.first_s * 2 ** (failures - 1)))


OutageCallback = Callable[[str | None], None]
"""Called with the error's type when the STT stream fails, with None once it is reopened."""


async def hear(
    track: rtc.RemoteAudioTrack,
    recogniser: stt.STT[Any],
    *,
    on_outage: OutageCallback | None = None,
    backoff: Backoff = Backoff(),
) -> AsyncIterator[stt.SpeechEvent]:
    """The STT's events for ``track`` until the track ends (its last words are still
    transcribed) or the caller stops iterating."""
    audio = rtc.AudioStream(track, num_channels=1)
    try:
        frames = (event.frame async for event in audio)
        async for ev in recognise(frames, recogniser, track.sid, on_outage, backoff):
            yield ev
    finally:
        await audio.aclose()


async def recognise(
    frames: AsyncIterable[rtc.AudioFrame],
    recogniser: stt.STT[Any],
    name: str,
    on_outage: OutageCallback | None = None,
    backoff: Backoff = Backoff(),
) -> AsyncIterator[stt.SpeechEvent]:
    """:func:`hear` on any source of frames; ``name`` labels the log lines (never what was
    said: only the error's type)."""
    current: stt.RecognizeStream | None = None
    ended = asyncio.Event()

    async def forward() -> None:
        async for frame in frames:
            if current is not None:  # while the STT is down, the audio has nowhere to go
                current.push_frame(frame)
        ended.set()
        if current is not None:
            current.end_input()

    forwarding = asyncio.create_task(forward(), name=f"hear {name}")
    failures = 0
    try:
        while not ended.is_set():
            current = recogniser.stream()
            if failures:
                if on_outage is not None:
                    on_outage(None)
                logger.info("speech-to-text on %s reopened", name)
            try:
                async for ev in current:
                    failures = 0
                    yield ev
                return  # its input ended: the track is over
            except Exception as e:
                failures += 1
                stream, current = current, None
                await stream.aclose()
                logger.warning(
                    "speech-to-text failed on %s (%s): reopening in %.1f s",
                    name,
                    type(e).__name__,
                    backoff.delay(failures),
                )
                if on_outage is not None:
                    on_outage(type(e).__name__)
                with_end = asyncio.ensure_future(ended.wait())
                await asyncio.wait([with_end], timeout=backoff.delay(failures))
                with_end.cancel()
    finally:
        await utils.aio.cancel_and_wait(forwarding)
        if current is not None:
            await current.aclose()
