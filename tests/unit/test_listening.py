"""Parley's listening machinery around livekit-agents' turn-taking, without models: the
end-of-turn scale, noise suppression, the dead-air guard, the presets' choices, and the
turn corpus' split."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest
from livekit import rtc
from livekit.agents.llm import ChatMessage
from livekit.agents.voice import io
from livekit.agents.voice.events import (
    ConversationItemAddedEvent,
    UserInputTranscribedEvent,
    UserStateChangedEvent,
)

from agent.config.models import TurnTaking
from agent.pipeline.adaptive_vad import LevelGate
from agent.pipeline.dead_air import DeadAirGuard
from agent.pipeline.denoise import NoiseSuppressed
from agent.pipeline.endofturn import combined, threshold
from agent.pipeline.turns import STOCK, listening
from stack import turn_corpus


def test_both_models_must_call_the_turn_complete() -> None:
    # en: v1-mini's threshold is 0.36; each model over its own threshold, on Smart Turn's scale
    assert threshold("livekit", "en") == 0.36 and threshold("both", "en") == 0.5
    assert combined("livekit", 0.2, None, "en") == 0.2
    assert combined("smart-turn", None, 0.7, "en") == 0.7
    assert combined("both", 0.72, 0.9, "en") == pytest.approx(0.9)  # both sure: Smart Turn's
    assert combined("both", 0.18, 0.9, "en") == pytest.approx(0.25)  # v1-mini unsure
    assert combined("both", 0.9, 0.3, "en") == pytest.approx(0.3)  # Smart Turn unsure
    # v1-mini has no Russian: livekit alone skips the model, both is Smart Turn alone
    assert threshold("livekit", "ru") is None and threshold("both", "ru") == 0.5
    assert combined("both", None, 0.8, "ru") == 0.8


def test_a_room_overrides_the_preset_field_by_field() -> None:
    assert listening(TurnTaking()) == STOCK
    chosen = listening(TurnTaking.model_validate({"preset": "telephony"}))
    own = {"end_of_turn": "livekit", "noise_suppression": False, "dead_air": 4.0}
    mine = listening(TurnTaking.model_validate({"preset": "telephony", **own}))
    assert (mine.end_of_turn, mine.noise_suppression, mine.dead_air) == ("livekit", False, 4.0)
    assert mine.adaptive_vad == chosen.adaptive_vad


class _Frames(io.AudioInput):
    def __init__(self, frames: list[rtc.AudioFrame]) -> None:
        super().__init__(label="frames")
        self._frames = iter(frames)

    async def __anext__(self) -> rtc.AudioFrame:
        try:
            return next(self._frames)
        except StopIteration:
            raise StopAsyncIteration from None


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


async def test_noise_suppression_takes_a_steady_hum_down_at_any_rate() -> None:
    rate = 48_000
    t = np.arange(rate * 3) / rate
    rng = np.random.default_rng(0)
    hum = (3000 * np.sin(2 * np.pi * 440 * t) + rng.normal(0, 1500, len(t))).astype(np.int16)
    n = rate // 50
    frames = [rtc.AudioFrame(hum[i : i + n].tobytes(), rate, 1, n) for i in range(0, len(t), n)]
    out = [f async for f in NoiseSuppressed(_Frames(frames))]
    assert {(f.sample_rate, f.num_channels) for f in out} == {(16_000, 1)}
    pcm = np.concatenate([np.frombuffer(f.data, dtype=np.int16) for f in out])
    assert abs(len(pcm) - 3 * 16_000) <= 16_000 // 50  # nothing lost but the last 10 ms
    last_second = pcm[-16_000:]  # once the suppressor has learnt the noise
    assert _rms(last_second) < 0.5 * _rms(hum)


class _Session(rtc.EventEmitter[Any]):
    def __init__(self) -> None:
        super().__init__()
        self.agent_state = "listening"
        self.commits = 0

    def commit_user_turn(self) -> asyncio.Future[str]:
        self.commits += 1
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        future.set_result("")
        return future


async def test_dead_air_guard_ends_a_turn_nobody_ended() -> None:
    session = _Session()
    guard = DeadAirGuard(session, after_s=0.2)  # type: ignore[arg-type]
    session.emit("user_state_changed", UserStateChangedEvent(old_state="listening",
                                                             new_state="speaking"))  # fmt: skip
    session.emit("user_input_transcribed",
                 UserInputTranscribedEvent(transcript="You have", is_final=True))  # fmt: skip
    await asyncio.sleep(0.3)  # still "speaking" (a VAD fooled by music): the words stopped
    assert session.commits == guard.commits == 1
    # Resumed speech or a turn the session took itself disarms it.
    session.emit("user_input_transcribed",
                 UserInputTranscribedEvent(transcript="five new", is_final=True))  # fmt: skip
    session.emit("user_state_changed", UserStateChangedEvent(old_state="listening",
                                                             new_state="speaking"))  # fmt: skip
    await asyncio.sleep(0.3)
    session.emit("user_state_changed", UserStateChangedEvent(old_state="speaking",
                                                             new_state="listening"))  # fmt: skip
    item = ChatMessage(role="user", content=["five new messages"])
    session.emit("conversation_item_added", ConversationItemAddedEvent(item=item))
    await asyncio.sleep(0.3)
    assert session.commits == 1
    # Nothing said (a cough, a click): nothing to answer.
    session.emit("user_state_changed", UserStateChangedEvent(old_state="speaking",
                                                             new_state="listening"))  # fmt: skip
    await asyncio.sleep(0.3)
    assert session.commits == 1
    # A final transcript that lags the end of speech does not push the timer back.
    session.emit("user_state_changed", UserStateChangedEvent(old_state="listening",
                                                             new_state="speaking"))  # fmt: skip
    session.emit("user_state_changed", UserStateChangedEvent(old_state="speaking",
                                                             new_state="listening"))  # fmt: skip
    await asyncio.sleep(0.12)
    session.emit("user_input_transcribed",
                 UserInputTranscribedEvent(transcript="It hurts", is_final=True))  # fmt: skip
    await asyncio.sleep(0.12)
    assert session.commits == 2
    # The agent already answering (speaking): the turn was taken.
    session.agent_state = "speaking"
    session.emit("user_input_transcribed",
                 UserInputTranscribedEvent(transcript="Okay", is_final=True))  # fmt: skip
    await asyncio.sleep(0.3)
    assert session.commits == 2


def test_the_corpus_check_part_shares_no_words_music_or_new_voice_with_tuning() -> None:
    tune, check = turn_corpus.TURNS["tune"], turn_corpus.TURNS["check"]
    assert not set(tune) & set(check)
    assert not set(turn_corpus.MUSIC["tune"]) & set(turn_corpus.MUSIC["check"])
    assert not set(turn_corpus.TALKERS["tune"]) & set(turn_corpus.TALKERS["check"])
    voices = {p: {v.name for v in turn_corpus.VOICES[p]} for p in ("tune", "check")}
    assert voices["tune"] & voices["check"] == {"allison-en", "allison-es"}  # one voice each


def test_a_corpus_case_is_labelled_where_its_pauses_are() -> None:
    voice = turn_corpus.VOICES["check"][3]  # Russian
    turn = turn_corpus.TURNS["check"][5]  # two pauses
    audio, rate, labels = turn_corpus.build_case("check", voice, turn, 0.6, "phone-loss", 3)
    assert rate == 8000 and labels["lang"] == "ru" and labels["voice"] == "ivr-ru"
    gaps = labels["gaps"]
    assert [g["kind"] for g in gaps] == ["mid", "mid", "end"]
    assert [g.get("after") for g in gaps] == ["words", "words", None]  # "for new messages | …"
    sentence = turn_corpus.build_case(
        "check", voice, turn_corpus.TURNS["check"][6], 0.6, "clean", 0
    )
    assert sentence[2]["gaps"][0]["after"] == "sentence"  # "… unidentified calls / please …"
    assert gaps[0]["end"] - gaps[0]["start"] == pytest.approx(0.6, abs=0.01)
    assert gaps[1]["end"] - gaps[1]["start"] == pytest.approx(0.78, abs=0.01)
    assert gaps[-1]["end"] == pytest.approx(len(audio) / rate, abs=0.01)
    pauses = [audio[int(g["start"] * rate) + 80 : int(g["end"] * rate) - 80] for g in gaps[:2]]
    assert all(_rms(p) < 150 for p in pauses)  # quiet (-40 dB): the line adds no sound
    again, _, _ = turn_corpus.build_case("check", voice, turn, 0.6, "phone-loss", 3)
    assert np.array_equal(audio, again)  # deterministic, packet loss included


def _gate_open(audio: np.ndarray, rate: int) -> np.ndarray:
    gate, n = LevelGate(), rate // 50
    return np.array([gate.passes(audio[i : i + n], 0.02) for i in range(0, len(audio) - n, n)])


def test_the_level_gate_keeps_a_tv_from_the_vad_but_not_the_user() -> None:
    voice, turn = turn_corpus.VOICES["tune"][0], turn_corpus.TURNS["tune"][0]
    for noise, tail_gated in (("tv-10db", 0.8), ("babble-10db", 0.8), ("clean", 0.0)):
        audio, rate, labels = turn_corpus.build_case("tune", voice, turn, 0.9, noise, 0)
        is_open = _gate_open(audio, rate)
        end = next(g for g in labels["gaps"] if g["kind"] == "end")
        tail = is_open[int(end["start"] / 0.02) + 15 :]  # past the hangover
        words = is_open[int(0.5 / 0.02) : int(labels["gaps"][0]["start"] / 0.02)]
        assert 1 - tail.mean() >= tail_gated, (noise, tail.mean())
        assert words.mean() > 0.9, (noise, words.mean())  # the user's words reach the VAD
