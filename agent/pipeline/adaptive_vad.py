"""A VAD that follows the room's sound: background speech well below the user's level is not
the user speaking.

Silero tells speech from music well (its probability drops to ~0 in the user's pauses over
hold music), but a TV or other talkers *are* speech: over them it hears the user "speak"
through the silence after their last word, the end of the turn is never heard, and the agent
says nothing. The user is nearer the microphone than the background, so louder: once the
room has a noise floor, audio more than ``GATE_DB`` below the user's speech level reaches
silero as silence. The levels are running percentiles of 20 ms frame levels: the user's
speech level the loud end of the last seconds, the floor the quiet end (speech always has
gaps, a bed of sound does not). In a quiet room nothing is gated.
"""

from __future__ import annotations

import collections
import dataclasses
from typing import Any

import numpy as np
from livekit import rtc
from livekit.agents import vad
from livekit.plugins import silero

SPEECH_WINDOW_S = 30.0
FLOOR_WINDOW_S = 2.0
GATE_DB = 6.0
"""Below the user's loud frames (their 90th percentile over the last 30 s), audio is
background. Chosen on the turn corpus' tuning part: over a TV, babble or music at 10 dB SNR
it keeps 95–99 % of the silence after a turn from the VAD and lets 95 % of the words through
(the hangover keeps the rest inside their words)."""
QUIET_DB = 30.0
"""A floor this far below the speech level is a quiet room: no gate."""
HANGOVER_S = 0.2
"""A word's soft ends stay inside the word."""


def _db(x: np.ndarray) -> float:
    return 10 * float(np.log10(np.mean(x.astype(np.float64) ** 2) + 1.0))


class LevelGate:
    """Frame by frame (frames of one length, as an audio input gives them): whether the
    frame may be the user's speech."""

    def __init__(self) -> None:
        self._levels: collections.deque[float] | None = None
        self._recent: collections.deque[float] | None = None
        self._open_until = 0.0
        self._t = 0.0
        self.gated_s = 0.0
        """How much audio the gate has kept from the VAD."""

    def passes(self, pcm: np.ndarray, duration: float) -> bool:
        if self._levels is None or self._recent is None:  # windows in the input's frames
            self._levels = collections.deque(maxlen=round(SPEECH_WINDOW_S / duration))
            self._recent = collections.deque(maxlen=round(FLOOR_WINDOW_S / duration))
        level = _db(pcm)
        self._levels.append(level)
        self._recent.append(level)
        self._t += duration
        if len(self._recent) < (self._recent.maxlen or 0):
            return True
        speech = float(np.percentile(self._levels, 90))
        floor = float(np.percentile(self._recent, 10))
        if speech - floor > QUIET_DB or level >= speech - GATE_DB:
            self._open_until = self._t + HANGOVER_S
        if self._t <= self._open_until:
            return True
        self.gated_s += duration
        return False


class _Stream:
    """silero's stream, fed silence where the gate closes."""

    def __init__(self, inner: silero.vad.VADStream) -> None:
        self._inner, self.gate = inner, LevelGate()

    def push_frame(self, frame: rtc.AudioFrame) -> None:
        pcm = np.frombuffer(frame.data, dtype=np.int16)
        if self.gate.passes(pcm, frame.duration):
            self._inner.push_frame(frame)
        else:
            n, channels = frame.samples_per_channel, frame.num_channels
            silent = bytes(2 * n * channels)
            self._inner.push_frame(rtc.AudioFrame(silent, frame.sample_rate, channels, n))

    def flush(self) -> None:
        self._inner.flush()

    def end_input(self) -> None:
        self._inner.end_input()

    async def aclose(self) -> None:
        await self._inner.aclose()

    def __aiter__(self) -> _Stream:
        return self

    async def __anext__(self) -> vad.VADEvent:
        return await self._inner.__anext__()


class AdaptiveVAD(vad.VAD):
    def __init__(self, inner: silero.VAD) -> None:
        super().__init__(capabilities=inner.capabilities)
        self._inner = inner

    @property
    def model(self) -> str:
        return self._inner.model

    @property
    def provider(self) -> str:
        return self._inner.provider

    @property
    def min_silence_duration(self) -> float | None:
        return self._inner.min_silence_duration

    def stream(self) -> Any:
        return _Stream(self._inner.stream())


def room_vad(shared: vad.VAD, gate: bool, min_silence: float | None) -> vad.VAD:
    """The worker's VAD for one room: its own silence length (a sibling silero sharing the
    loaded model: silero's streams share their VAD's options) and the level gate."""
    if not isinstance(shared, silero.VAD):
        return shared
    room: silero.VAD = shared
    if min_silence is not None:
        options = dataclasses.replace(shared._opts, min_silence_duration=min_silence)
        room = silero.VAD(session=shared._onnx_session, opts=options)
    return AdaptiveVAD(room) if gate else room
