"""The offline models, loaded once for the whole session (as a worker process would)."""

from __future__ import annotations

import numpy as np
import pytest
from livekit import rtc
from livekit.agents import vad
from livekit.plugins import offline, silero

from fakes.audio import read_wav
from tests.leaks import no_leaked_tasks

__all__ = ["no_leaked_tasks"]


@pytest.fixture(scope="session")
def vad_model() -> vad.VAD:
    return silero.VAD.load()


@pytest.fixture(scope="session")
def english_stt(vad_model: vad.VAD) -> offline.STT:
    return offline.STT(vad=vad_model, language="en")


@pytest.fixture(scope="session")
def spanish_stt(vad_model: vad.VAD) -> offline.STT:
    return offline.STT(vad=vad_model, language="es")


def wav_frame(path: str) -> rtc.AudioFrame:
    with open(path, "rb") as f:
        samples, rate = read_wav(f.read())
    return pcm_frame(samples, rate)


def pcm_frame(samples: np.ndarray, rate: int) -> rtc.AudioFrame:
    pcm = samples.astype(np.int16)
    return rtc.AudioFrame(pcm.tobytes(), rate, 1, pcm.size)
