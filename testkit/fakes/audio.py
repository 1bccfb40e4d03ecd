"""Audio helpers shared by the fakes: real speech synthesis and a server-side energy VAD."""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
import wave
from dataclasses import dataclass, field

import numpy as np


def resample(pcm: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Linear resampling of int16 mono PCM: good enough for fake provider audio."""
    if src_rate == dst_rate or pcm.size == 0:
        return pcm
    n_out = round(pcm.size * dst_rate / src_rate)
    x_out = np.linspace(0, pcm.size - 1, n_out)
    return np.interp(x_out, np.arange(pcm.size), pcm.astype(np.float32)).astype(np.int16)


def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Decodes a mono or stereo 16-bit WAV into int16 mono samples and its rate."""
    with wave.open(io.BytesIO(data)) as w:
        rate, channels = w.getframerate(), w.getnchannels()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return samples, rate


def write_wav(pcm: np.ndarray, rate: int) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.astype(np.int16).tobytes())
    return buf.getvalue()


@functools.lru_cache(maxsize=64)
def speak(text: str, sample_rate: int = 24000, voice: str = "en-us") -> bytes:
    """Real speech (espeak-ng) as int16 mono PCM at ``sample_rate``.

    Speech rather than a tone because Silero VAD and STT ignore pure tones.
    """
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError(
            "espeak-ng is not installed: the fakes need it (apt-get install espeak-ng)"
        )
    wav = subprocess.run(
        [exe, "-v", voice, "-s", "175", "--stdout", text], check=True, capture_output=True
    ).stdout
    pcm, rate = read_wav(wav)
    return resample(pcm, rate, sample_rate).tobytes()


def rms_dbfs(pcm: np.ndarray) -> float:
    if pcm.size == 0:
        return -120.0
    rms = float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2)))
    return float(20 * np.log10(max(rms, 1e-9) / 32768.0))


VOICE_DBFS = -40.0
"""Frames louder than this are voice, as a provider's energy VAD hears them."""


def voiced_span(samples: np.ndarray, rate: int, frame_ms: int = 20) -> tuple[int, int]:
    """First and last sample (exclusive) of the voiced frames; (0, 0) for silence."""
    n = rate * frame_ms // 1000
    frames = samples[: len(samples) // n * n].reshape(-1, n).astype(np.float64)
    level = 20 * np.log10(np.maximum(np.sqrt((frames**2).mean(axis=1)), 1e-9) / 32768)
    voiced = np.flatnonzero(level > VOICE_DBFS)
    return (int(voiced[0]) * n, (int(voiced[-1]) + 1) * n) if voiced.size else (0, 0)


@dataclass
class EnergyVad:
    """Server-side voice activity detection, like a provider's ``server_vad``.

    Feed int16 PCM as it arrives; ``feed`` returns "speech_started" / "speech_stopped"
    events with the audio time (ms since the stream began) at which each happened.
    """

    sample_rate: int
    threshold_dbfs: float = -40.0
    min_speech_ms: int = 100
    silence_ms: int = 500
    frame_ms: int = 20
    _pending: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int16))
    _t_ms: int = 0
    _speaking: bool = False
    _run_ms: int = 0
    _speech_start_ms: int = 0

    @property
    def speaking(self) -> bool:
        return self._speaking

    @property
    def audio_ms(self) -> int:
        return self._t_ms

    def feed(self, pcm: bytes | np.ndarray) -> list[tuple[str, int]]:
        samples = pcm if isinstance(pcm, np.ndarray) else np.frombuffer(pcm, dtype=np.int16)
        self._pending = np.concatenate([self._pending, samples])
        frame = self.sample_rate * self.frame_ms // 1000
        events: list[tuple[str, int]] = []
        while self._pending.size >= frame:
            chunk, self._pending = self._pending[:frame], self._pending[frame:]
            loud = rms_dbfs(chunk) > self.threshold_dbfs
            self._t_ms += self.frame_ms
            if loud != self._speaking:
                if self._run_ms == 0 and loud:
                    self._speech_start_ms = self._t_ms - self.frame_ms
                self._run_ms += self.frame_ms
                needed = self.min_speech_ms if loud else self.silence_ms
                if self._run_ms >= needed:
                    self._speaking = loud
                    self._run_ms = 0
                    if loud:
                        events.append(("speech_started", self._speech_start_ms))
                    else:
                        events.append(("speech_stopped", self._t_ms - self.silence_ms))
            else:
                self._run_ms = 0
        return events
