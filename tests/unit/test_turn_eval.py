"""Turn-taking evaluation without models: labelled cases (and bad ones), scoring, presets."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from agent.config.models import TurnTaking
from agent.eval.cases import load_cases
from agent.eval.turns import breakdown, label, score, variant
from agent.pipeline.turns import turn_values
from fakes.audio import write_wav

MID = {"start": 1.0, "end": 1.8, "kind": "mid"}
END = {"start": 3.0, "end": 6.0, "kind": "end"}
GOOD = {
    "gaps": [MID, END],
    "lang": "en",
    "text": "you have five new messages",
    "noise": "clean",
}


def write_case(directory: Path, name: str, labels: object, seconds: float = 6.0) -> None:
    (directory / f"{name}.wav").write_bytes(write_wav(np.zeros(int(16000 * seconds)), 16000))
    (directory / f"{name}.json").write_text(json.dumps(labels))


def test_bad_cases_are_named_and_the_rest_load(tmp_path: Path) -> None:
    write_case(tmp_path, "good", GOOD)
    write_case(tmp_path, "overlap", {**GOOD, "gaps": [END, MID]})
    write_case(tmp_path, "no-end", {**GOOD, "gaps": [MID]})
    write_case(tmp_path, "past-audio", GOOD, seconds=4.0)
    write_case(tmp_path, "bad-kind", {**GOOD, "gaps": [{"start": 1, "end": 2, "kind": "pause"}]})
    (tmp_path / "broken.wav").write_bytes(b"RIFF not really")
    (tmp_path / "broken.json").write_text(json.dumps(GOOD))
    (tmp_path / "unlabelled.wav").write_bytes(write_wav(np.zeros(16000), 16000))
    cases, errors = load_cases(tmp_path)
    assert [c.name for c in cases] == ["good"]
    reasons = {Path(e.file).stem: e.reason for e in errors}
    assert set(reasons) == {"overlap", "no-end", "past-audio", "bad-kind", "broken", "unlabelled"}
    assert "out of order" in reasons["overlap"] and '"end" gap' in reasons["no-end"]
    assert "after the audio" in reasons["past-audio"] and "kind" in reasons["bad-kind"]
    assert "cannot be read" in reasons["broken"] and "missing" in reasons["unlabelled"]


@pytest.mark.parametrize(
    ("decisions", "cut_ins", "delay", "missed"),
    [
        ([3.4], 0, 0.4, False),  # waited through the pause, answered 0.4 s after the end
        ([1.5, 3.4], 1, 0.4, False),  # took the turn in the pause
        ([2.2, 3.4], 1, 0.4, False),  # decided late, after the speaker went on: still a cut-in
        ([], 0, None, True),
        ([6.5], 0, None, True),  # more than 3 s after the end
    ],
)
def test_scoring(
    tmp_path: Path, decisions: list[float], cut_ins: int, delay: float | None, missed: bool
) -> None:
    write_case(tmp_path, "good", GOOD)
    cases, _ = load_cases(tmp_path)
    r = score(cases[0], decisions)
    assert (r.cut_ins, r.missed) == (cut_ins, missed)
    assert r.delay_s == pytest.approx(delay) if delay is not None else r.delay_s is None
    summary = breakdown([r])
    assert summary.false_cut_in_rate == cut_ins / 1


def test_cut_ins_are_counted_apart_by_what_the_pause_followed(tmp_path: Path) -> None:
    words = {"start": 1.0, "end": 1.8, "kind": "mid", "after": "words"}
    sentence = {"start": 2.0, "end": 2.8, "kind": "mid", "after": "sentence"}
    labels = {**GOOD, "gaps": [words, sentence, END]}
    write_case(tmp_path, "two", labels)
    cases, _ = load_cases(tmp_path)
    cut_between = score(cases[0], [2.5, 3.4])  # took the turn after the whole sentence only
    assert [c.after for c in cut_between.cuts] == ["sentence"]
    both = breakdown([cut_between, score(cases[0], [3.4])])
    assert both.false_cut_in_rate == 1 / 4
    assert (both.cut_in_rate_after_words, both.cut_in_rate_after_sentence) == (0, 1 / 2)
    unlabelled = breakdown([score(load_cases(_good(tmp_path))[0][0], [1.5, 3.4])])
    assert unlabelled.false_cut_in_rate == 1 and unlabelled.cut_in_rate_after_words is None


def _good(tmp_path: Path) -> Path:
    (tmp_path / "good").mkdir()
    write_case(tmp_path / "good", "good", GOOD)
    return tmp_path / "good"


def test_presets_are_overridden_field_by_field() -> None:
    t = TurnTaking.model_validate({"preset": "meeting", "endpointing": {"max_delay": 6.0}})
    endpointing, interruption = turn_values(t)
    assert endpointing == {"min_delay": 0.5, "max_delay": 6.0}
    assert interruption["min_words"] == 3
    assert turn_values(TurnTaking()) == ({}, {})  # livekit-default: livekit's own values


def test_a_cut_in_names_its_pause_and_the_probability_that_let_it(tmp_path: Path) -> None:
    write_case(tmp_path, "good", GOOD)
    cases, _ = load_cases(tmp_path)
    r = score(cases[0], [1.5, 3.6], [(1.2, 0.9), (1.45, 0.62), (3.3, 0.8)])
    assert [c.model_dump() for c in r.cuts] == [
        {"pause": 0, "at_s": 0.5, "probability": 0.62, "after": None}
    ]
    assert r.predictions[0] == (1.2, 0.9)


def test_a_variant_is_a_preset_or_a_turn_taking_object() -> None:
    assert label(variant("telephony")) == "telephony"
    v = variant('{"preset": "telephony", "end_of_turn": "both", "dead_air": 2}')
    assert v.end_of_turn == "both" and label(v) == 'telephony end_of_turn="both" dead_air=2.0'
    with pytest.raises(argparse.ArgumentTypeError, match="end_of_turn"):
        variant('{"end_of_turn": "maybe"}')
    with pytest.raises(argparse.ArgumentTypeError, match="quick"):
        variant("quick")
