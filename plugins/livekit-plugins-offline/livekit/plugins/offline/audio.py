"""Frames in, 16 kHz mono float32 out: the one input format Whisper takes."""

from __future__ import annotations

import numpy as np
from livekit import rtc
from livekit.agents import utils

WHISPER_RATE = 16_000


def to_whisper_input(buffer: utils.AudioBuffer) -> np.ndarray:
    frame = utils.merge_frames(buffer)
    if frame.samples_per_channel == 0:
        return np.zeros(0, dtype=np.float32)
    if frame.sample_rate != WHISPER_RATE or frame.num_channels != 1:
        resampler = rtc.AudioResampler(
            frame.sample_rate, WHISPER_RATE, num_channels=frame.num_channels
        )
        frames = [*resampler.push(frame), *resampler.flush()]
        frame = utils.merge_frames(frames)
    pcm = np.frombuffer(frame.data, dtype=np.int16)
    if frame.num_channels > 1:
        pcm = pcm.reshape(-1, frame.num_channels).mean(axis=1).astype(np.int16)
    return pcm.astype(np.float32) / 32768.0
