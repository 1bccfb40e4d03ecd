"""Noise suppression of the user's audio, ahead of everything that listens to it (the VAD,
the end-of-turn model, the STT): WebRTC's suppressor and high-pass filter (the
``webrtc-noise-gain`` wheel, CPU, 10 ms frames at 16 kHz)."""

from __future__ import annotations

import numpy as np
from livekit import rtc
from livekit.agents.voice import io
from webrtc_noise_gain import AudioProcessor

RATE = 16_000
CHUNK = RATE // 100
LEVEL = 2
"""WebRTC's suppression level, 0–4: 2 ("high") takes most of a music bed down without the
musical-noise artifacts of 3–4 that the STT then reads as words."""


class NoiseSuppressed(io.AudioInput):
    """``source``'s frames at 16 kHz mono, with steady background sound suppressed."""

    def __init__(self, source: io.AudioInput) -> None:
        super().__init__(label="noise-suppressed", source=source)
        self._processor = AudioProcessor(0, LEVEL)
        self._resampler: rtc.AudioResampler | None = None
        self._rate: int | None = None
        self._pending = np.zeros(0, dtype=np.int16)

    def _to_16k(self, frame: rtc.AudioFrame) -> np.ndarray:
        if frame.num_channels != 1 or frame.sample_rate != self._rate:
            self._rate = frame.sample_rate
            self._resampler = (
                None
                if frame.sample_rate == RATE and frame.num_channels == 1
                else rtc.AudioResampler(frame.sample_rate, RATE, num_channels=frame.num_channels)
            )
        frames = [frame] if self._resampler is None else self._resampler.push(frame)
        pcm = [np.frombuffer(f.data, dtype=np.int16) for f in frames]
        mono = [p.reshape(-1, frame.num_channels).mean(axis=1).astype(np.int16) for p in pcm]
        return np.concatenate(mono) if mono else np.zeros(0, dtype=np.int16)

    def process(self, pcm: np.ndarray) -> np.ndarray:
        """16 kHz int16 in, the same length out; 10 ms at a time, the rest kept for later."""
        pcm = np.concatenate([self._pending, pcm])
        whole = len(pcm) - len(pcm) % CHUNK
        self._pending = pcm[whole:]
        out = [
            np.frombuffer(self._processor.Process10ms(pcm[i : i + CHUNK].tobytes()).audio, np.int16)
            for i in range(0, whole, CHUNK)
        ]
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int16)

    async def __anext__(self) -> rtc.AudioFrame:
        while True:
            clean = self.process(self._to_16k(await super().__anext__()))
            if len(clean):
                return rtc.AudioFrame(clean.tobytes(), RATE, 1, len(clean))
