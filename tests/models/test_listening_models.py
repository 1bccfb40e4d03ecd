"""The listening machinery's models on real recordings: Smart Turn v3.2 from the pipecat-ai
wheel, and the VAD threshold that follows the noise floor of real hold music."""

from __future__ import annotations

import asyncio

import numpy as np
from livekit import rtc
from livekit.agents import vad
from livekit.plugins import silero

from agent.pipeline.adaptive_vad import AdaptiveVAD, room_vad
from agent.pipeline.smart_turn import THRESHOLD, smart_turn
from stack import turn_corpus
from stack.turn_corpus import RATE, _fragment

ALLISON = "en_US_f_Allison"


def _said(*names: str) -> np.ndarray:
    gap = np.zeros(int(0.08 * RATE), dtype=np.int16)
    words = [p for n in names for p in (_fragment(n, ALLISON), gap)]
    return np.concatenate([np.zeros(RATE // 2, dtype=np.int16), *words, gap, gap])


def test_smart_turn_hears_an_unfinished_sentence() -> None:
    model = smart_turn()
    unfinished = model.probability(_said("vm-youhave"))  # "You have …"
    finished = model.probability(_said("vm-youhave", "digits/5", "vm-INBOX", "vm-messages"))
    assert unfinished < THRESHOLD < finished, (unfinished, finished)


async def _speech_ends(vad_model: vad.VAD, pcm: np.ndarray, rate: int) -> list[float]:
    """When the VAD says each stretch of speech ended, in seconds into ``pcm``."""
    stream = vad_model.stream()
    n = rate // 50
    for i in range(0, len(pcm) - n, n):
        stream.push_frame(rtc.AudioFrame(pcm[i : i + n].tobytes(), rate, 1, n))
    stream.end_input()
    ends = []
    async for ev in stream:
        if ev.type == vad.VADEventType.END_OF_SPEECH:
            ends.append(ev.samples_index / ev.frames[0].sample_rate if ev.frames else 0.0)
    await stream.aclose()
    return ends


async def test_the_vad_hears_the_turn_end_over_a_tv(vad_model: vad.VAD) -> None:
    """A TV talking 10 dB below the user: the gate lets silero hear the user stop."""
    assert isinstance(vad_model, silero.VAD)
    voice, turn = turn_corpus.VOICES["tune"][0], turn_corpus.TURNS["tune"][0]
    audio, rate, labels = turn_corpus.build_case("tune", voice, turn, 0.9, "tv-10db", 0)
    end = next(g["start"] for g in labels["gaps"] if g["kind"] == "end")
    gated = await asyncio.wait_for(_speech_ends(AdaptiveVAD(vad_model), audio, rate), 60)
    assert any(end <= t <= end + 1.5 for t in gated), (end, gated)


def test_a_room_vad_has_its_own_silence_and_shares_the_model(vad_model: vad.VAD) -> None:
    assert isinstance(vad_model, silero.VAD)
    before = vad_model.min_silence_duration
    room = room_vad(vad_model, gate=True, min_silence=0.3)
    assert isinstance(room, AdaptiveVAD) and room.min_silence_duration == 0.3
    assert vad_model.min_silence_duration == before  # other rooms keep theirs
    assert room_vad(vad_model, gate=False, min_silence=None) is vad_model
