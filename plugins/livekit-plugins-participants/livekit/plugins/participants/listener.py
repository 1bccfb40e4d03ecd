"""One participant's audio track through one speech-to-text stream.

LiveKit's RoomIO links one participant to an AgentSession; a multi-party plugin hears each
participant itself. The track is read at its own rate and the STT stream resamples it to the
rate its model needs (livekit-agents' ``RecognizeStream`` does that), so no rate is assumed
here: Whisper gets 16 kHz, OpenAI 24 kHz.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from livekit import rtc
from livekit.agents import stt, utils

from .log import logger


async def hear(
    track: rtc.RemoteAudioTrack, recogniser: stt.STT[Any]
) -> AsyncIterator[stt.SpeechEvent]:
    """The STT's events for ``track`` until the track ends (its last words are still
    transcribed) or the caller stops iterating. A failing STT ends the iteration with one
    warning in the log (the track and the error's type, never what was said)."""
    stream = recogniser.stream()
    audio = rtc.AudioStream(track, num_channels=1)

    async def forward() -> None:
        async for event in audio:
            stream.push_frame(event.frame)
        stream.end_input()

    forwarding = asyncio.create_task(forward(), name=f"hear {track.sid}")
    try:
        async for event in stream:
            yield event
    except Exception as e:  # the STT gave up after its own retries
        logger.warning("speech-to-text failed on track %s: %s", track.sid, type(e).__name__)
    finally:
        await utils.aio.cancel_and_wait(forwarding)
        await stream.aclose()
        await audio.aclose()
