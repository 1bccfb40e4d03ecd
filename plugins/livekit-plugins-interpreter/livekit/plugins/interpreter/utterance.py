"""A speaker's utterance, and a clock that cuts utterances from the level of their audio.

The cascade's STT and a speech-to-speech session's turn detection say when an utterance starts
and ends; a translation session says neither (it translates a continuous stream). There the
interpreter still needs the times, for the lag it reports and to group the original's
captions, so it reads them from the speaker's audio level: only timing rides on it, never
what is translated.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

import numpy as np
from livekit import rtc

VOICE_DBFS = -45.0
"""A 10 ms frame above this level is voice (speech is -30 to -10 dBFS; a quiet room -60)."""
PAUSE_S = 0.6
"""Unvoiced this long, the utterance has ended; voice after it starts the next one."""
SILENT_PEAK = 64
"""Samples no larger than this (of 32767) are digital silence."""


@dataclass
class Utterance:
    segment_id: str
    start: float
    end: float | None = None
    started: set[str] = field(default_factory=set)
    """Target languages that already received a unit of this utterance."""
    mid_sentence: bool = False
    """Whether the last unit sent left a sentence unfinished."""

    @classmethod
    def new(cls, start: float) -> Utterance:
        return cls(segment_id=f"SG_{uuid.uuid4().hex[:12]}", start=start)


def dbfs(samples: np.ndarray) -> float:
    """The level of PCM16 samples."""
    wide = samples.astype(np.float64)
    rms = float(np.sqrt(np.mean(wide**2))) if wide.size else 0.0
    return 20 * float(np.log10(max(rms, 1e-9) / 32768))


def is_silent(frame: rtc.AudioFrame) -> bool:
    samples = np.frombuffer(frame.data, dtype=np.int16)
    return not samples.size or int(np.abs(samples.astype(np.int32)).max()) <= SILENT_PEAK


class SpeechClock:
    """Feed it the speaker's frames as they arrive; ``utterance`` is the current one (or the
    last, once it has ended)."""

    def __init__(self) -> None:
        self.utterance = Utterance.new(time.time())
        self._voiced_at: float | None = None
        """Wall-clock time of the last voiced frame; None before any voice."""

    def feed(self, frame: rtc.AudioFrame) -> None:
        if dbfs(np.frombuffer(frame.data, dtype=np.int16)) <= VOICE_DBFS:
            return
        now = time.time()
        if self._voiced_at is None or now - self._voiced_at >= PAUSE_S:
            self.utterance = Utterance.new(now)
        self._voiced_at = now

    def ended(self) -> float | None:
        """When the current utterance ended, if the speaker has been quiet since."""
        if self._voiced_at is None or time.time() - self._voiced_at < PAUSE_S:
            return None
        self.utterance.end = self._voiced_at
        return self._voiced_at
