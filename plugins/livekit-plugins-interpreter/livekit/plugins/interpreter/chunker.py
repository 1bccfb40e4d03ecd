"""Cuts a speaker's continuous audio into the stretches a whole-utterance model translates.

A model that translates a finished stretch of speech (SeamlessM4T) needs the stream cut: at
each pause, so a phrase is translated whole, and at most every ``max_s``, so a speaker who
never pauses is still heard while they talk (there at the quietest moment of the last
second, where a word is least likely to be cut). Silence is never handed on: a model given
silence makes words up.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from .utterance import VOICE_DBFS, dbfs

FRAME_MS = 20


@dataclass(frozen=True)
class ChunkerOptions:
    pause_s: float = 0.4
    """Unvoiced this long, the phrase is complete."""
    max_s: float = 3.0
    """A longer stretch is cut even without a pause."""
    min_voice_s: float = 0.2
    """Less voice than this (a click, a cough) is not speech worth translating."""
    lead_s: float = 0.1
    """Audio kept from before the voice starts, so the first word's onset is not lost."""


class SpeechChunker:
    """Feed it PCM16 samples at ``sample_rate``; it returns each completed stretch."""

    def __init__(self, sample_rate: int, options: ChunkerOptions | None = None) -> None:
        self._o = options or ChunkerOptions()
        self._frame = sample_rate * FRAME_MS // 1000
        self._pending = np.zeros(0, dtype=np.int16)
        self._lead: deque[np.ndarray] = deque(maxlen=max(1, self._frames(self._o.lead_s)))
        self._frames_in: list[np.ndarray] = []
        self._voiced: list[bool] = []
        self._unvoiced_run = 0

    def _frames(self, seconds: float) -> int:
        return round(seconds * 1000 / FRAME_MS)

    def feed(self, samples: np.ndarray) -> list[np.ndarray]:
        self._pending = np.concatenate([self._pending, samples.astype(np.int16, copy=False)])
        done: list[np.ndarray] = []
        while self._pending.size >= self._frame:
            frame, self._pending = self._pending[: self._frame], self._pending[self._frame :]
            if (stretch := self._step(frame)) is not None:
                done.append(stretch)
        return done

    def flush(self) -> np.ndarray | None:
        """What is left at the end of the stream, if it holds speech."""
        return self._cut(len(self._frames_in))

    def _step(self, frame: np.ndarray) -> np.ndarray | None:
        voiced = dbfs(frame) > VOICE_DBFS
        if not self._frames_in and not voiced:
            self._lead.append(frame)
            return None
        if not self._frames_in:
            self._frames_in = list(self._lead)
            self._voiced = [False] * len(self._frames_in)
            self._lead.clear()
        self._frames_in.append(frame)
        self._voiced.append(voiced)
        self._unvoiced_run = 0 if voiced else self._unvoiced_run + 1
        if self._unvoiced_run >= self._frames(self._o.pause_s):
            # Keep a little of the pause: the model hears the phrase end.
            return self._cut(len(self._frames_in) - self._unvoiced_run + len(self._lead))
        if len(self._frames_in) >= self._frames(self._o.max_s):
            return self._cut(self._quietest_late_frame())
        return None

    def _quietest_late_frame(self) -> int:
        start = max(1, len(self._frames_in) - self._frames(1.0))
        levels = [dbfs(f) for f in self._frames_in[start:]]
        return start + int(np.argmin(levels))

    def _cut(self, at: int) -> np.ndarray | None:
        """Hands on the first ``at`` frames (if they hold enough voice); the rest starts the
        next stretch."""
        head, voiced = self._frames_in[:at], self._voiced[:at]
        self._frames_in, self._voiced = self._frames_in[at:], self._voiced[at:]
        if not any(self._voiced):  # only the pause is left: wait for voice again
            self._lead.extend(self._frames_in)
            self._frames_in, self._voiced = [], []
            self._unvoiced_run = 0
        if sum(voiced) < self._frames(self._o.min_voice_s):
            return None
        return np.concatenate(head)
