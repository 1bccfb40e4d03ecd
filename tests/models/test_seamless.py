"""The SeamlessM4T v2 backend's real loading, chunking and streaming code on a tiny random
model built here (the real weights are 9 GB and cannot be downloaded): a real recording in,
translated text and 24 kHz speech out per phrase, in order, while the stream goes on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from livekit import rtc
from livekit.plugins.interpreter import seamless
from livekit.plugins.interpreter.translation import (
    SAMPLE_RATE,
    SourceText,
    TranslatedAudio,
    TranslatedText,
    TranslationError,
    TranslationEvent,
)

from fakes.audio import read_wav, resample
from stack import tiny_seamless
from stack.recordings import clip

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_seamless.build(tmp_path_factory.mktemp("seamless") / "tiny")


def speech(name: str) -> np.ndarray:
    samples, rate = read_wav(clip(name).read_bytes())
    return resample(samples, rate, SAMPLE_RATE)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(SAMPLE_RATE * seconds), dtype=np.int16)


async def translate(
    backend: seamless.SeamlessBackend, stream: np.ndarray, *, transcribe: bool
) -> list[TranslationEvent]:
    session = await backend.session("en", "es", transcribe=transcribe)
    step = SAMPLE_RATE // 50
    for start in range(0, stream.size - step + 1, step):
        session.push_audio(
            rtc.AudioFrame(stream[start : start + step].tobytes(), SAMPLE_RATE, 1, step)
        )
    await session.aclose()
    return [event async for event in session.events()]


async def test_each_phrase_is_translated_to_text_then_speech_and_billed(model_dir: Path) -> None:
    backend = seamless.SeamlessBackend(model_dir, device="cpu")
    stream = np.concatenate(
        [silence(0.5), speech("conf-onlyperson"), silence(1), speech("vm-nobodyavail"), silence(1)]
    )
    events = await translate(backend, stream, transcribe=True)

    kinds = [type(e) for e in events]
    # Per phrase: the original, its translation, then its speech; the next phrase after.
    phrases = [i for i, k in enumerate(kinds) if k is SourceText]
    assert len(phrases) >= 2, kinds
    for start, end in zip(phrases, [*phrases[1:], len(kinds)], strict=True):
        run = kinds[start:end]
        assert run[:2] == [SourceText, TranslatedText] and set(run[2:]) == {TranslatedAudio}
    audio = [e.frame for e in events if isinstance(e, TranslatedAudio)]
    assert all(f.sample_rate == SAMPLE_RATE and f.num_channels == 1 for f in audio)
    assert all(f.samples_per_channel <= SAMPLE_RATE // 10 for f in audio)  # pauses show
    # The vocoder speaks 320 samples (20 ms) per unit: a phrase's speech is whole frames.
    assert sum(f.samples_per_channel for f in audio) > SAMPLE_RATE // 10
    assert all(
        isinstance(e.delta, str) and e.delta.startswith(" ")
        for e in events
        if not isinstance(e, TranslatedAudio)
    )
    (usage,) = backend.usage()
    assert usage.provider == "offline" and usage.model == "tiny"
    assert usage.audio_duration == pytest.approx(stream.size // (SAMPLE_RATE // 5) / 5)


async def test_without_transcribe_no_original_and_silence_gives_nothing(model_dir: Path) -> None:
    backend = seamless.SeamlessBackend(model_dir, device="cpu")
    events = await translate(backend, speech("conf-onlyperson"), transcribe=False)
    assert events and not any(isinstance(e, SourceText) for e in events)
    assert await translate(backend, silence(3), transcribe=False) == []


async def test_languages_it_lacks_are_named_and_a_session_for_one_refused(model_dir: Path) -> None:
    backend = seamless.SeamlessBackend(model_dir, device="cpu")
    assert backend.unsupported("en", "es") is None
    assert "target language fr" in str(backend.unsupported("en", "fr"))
    assert "source language xx" in str(backend.unsupported("xx", "es"))
    with pytest.raises(TranslationError, match="target language fr"):
        await backend.session("en", "fr", transcribe=False)


def test_a_directory_without_a_model_is_refused_with_what_it_needs(tmp_path: Path) -> None:
    with pytest.raises(seamless.ModelError, match=r"generation_config\.json"):
        seamless.SeamlessBackend(tmp_path, device="cpu")
