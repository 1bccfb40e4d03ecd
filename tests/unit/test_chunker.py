"""Cutting a continuous stream into the stretches a whole-utterance model translates."""

from __future__ import annotations

import numpy as np
import pytest
from livekit.plugins.interpreter.chunker import ChunkerOptions, SpeechChunker

from fakes.audio import read_wav, resample
from stack.recordings import clip

pytestmark = pytest.mark.unit
RATE = 16_000


def recording(name: str) -> np.ndarray:
    samples, rate = read_wav(clip(name).read_bytes())
    return resample(samples, rate, RATE)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(RATE * seconds), dtype=np.int16)


def chunked(stream: np.ndarray, options: ChunkerOptions | None = None) -> list[np.ndarray]:
    chunker = SpeechChunker(RATE, options)
    out: list[np.ndarray] = []
    for start in range(0, stream.size, 3_200):  # 200 ms pieces, as a session sends them
        out += chunker.feed(stream[start : start + 3_200])
    return out + [s for s in [chunker.flush()] if s is not None]


def test_silence_and_a_click_are_never_handed_on() -> None:
    click = np.zeros(RATE // 10, dtype=np.int16)
    click[:80] = 20_000  # 5 ms, far below the shortest speech
    assert chunked(np.concatenate([silence(2), click, silence(2)])) == []


def test_two_phrases_apart_are_two_stretches_each_whole() -> None:
    first, second = recording("conf-onlyperson"), recording("vm-nobodyavail")
    stretches = chunked(np.concatenate([silence(0.5), first, silence(1), second, silence(1)]))
    assert len(stretches) >= 2
    # Nothing of either phrase is lost: together they hold all the voiced audio.
    total = sum(s.size for s in stretches)
    assert first.size + second.size - RATE < total < first.size + second.size + 2 * RATE
    # The last stretch ends at the pause, with a little of it, not all of it.
    assert stretches[-1].size < second.size + RATE // 2


def test_speech_without_a_pause_is_still_cut_every_few_seconds() -> None:
    options = ChunkerOptions(max_s=1.5, pause_s=5.0)
    speech = np.concatenate([recording("conf-onlyperson")] * 3)
    stretches = chunked(speech, options)
    assert len(stretches) >= 3
    assert all(s.size <= 1.5 * RATE for s in stretches[:-1])
    assert sum(s.size for s in stretches) > speech.size * 0.8
