"""``python -m agent eval turns`` end to end on corpus cases: the worker's own session, real
models (silero VAD, the local end-of-turn model, Whisper), audio in real time."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from stack.process import ROOT
from stack.turn_corpus import build_part


def test_eval_turns_measures_presets_and_names_bad_cases(tmp_path: Path) -> None:
    corpus, cases = tmp_path / "corpus", tmp_path / "cases"
    cases.mkdir()
    picked = [
        w for w in build_part("check", corpus) if "-allison-" in w.stem and "-clean-" in w.stem
    ]
    for wav in picked[:2]:
        for path in (wav, wav.with_suffix(".json")):
            shutil.copy(path, cases / path.name)
    (cases / "broken.wav").write_bytes(b"not a wav")
    (cases / "broken.json").write_text(next(cases.glob("t*.json")).read_text())
    out = tmp_path / "report.json"
    run = subprocess.run(
        [sys.executable, "-m", "agent", "eval", "turns", "--cases", str(cases),
         "--preset", '{"preset":"conversation","end_of_turn":"both"}', "--jobs", "2",
         "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(out.read_text())
    assert [e["file"].rsplit("/", 1)[-1] for e in report["errors"]] == ["broken.wav"]
    names = [p["preset"] for p in report["presets"]]
    assert names == ["livekit-default", 'conversation end_of_turn="both"']
    for preset in report["presets"]:
        assert preset["overall"]["cases"] == 2
        for case in preset["cases"]:
            assert case["mids"] == 1
            assert case["decisions_s"], f"{preset['preset']} never ended {case['case']}'s turn"
            assert case["predictions"], "each case lists the end-of-turn predictions it got"
    assert "cut-ins" in run.stdout and "noise clean" in run.stdout
