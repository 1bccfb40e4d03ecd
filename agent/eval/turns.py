"""``python -m agent eval turns``: turn-taking presets measured on labelled recordings.

Each case runs through the worker's own session builder (``build_session``: silero VAD, the
local end-of-turn model, offline Whisper, the preset's endpointing), as a room would, with the
audio fed in real time: livekit-agents' timers run on the wall clock, so feeding faster would
change its decisions. The agent never answers (``StopResponse``), so every decision is about
the user's turn alone. Each decision time is compared with the labels:

- a decision before the ``end`` gap is a false cut-in at the ``mid`` gap before it;
- the first decision in the ``end`` gap gives the response delay; none within 3 s is a miss.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from livekit import rtc
from livekit.agents import Agent, StopResponse, llm, vad
from livekit.agents.voice import io
from livekit.plugins.participants import percentile
from pydantic import BaseModel

from ..config.defaults import OFFLINE_CASCADE
from ..config.models import TURN_PRESETS, RoomConfig, TurnPreset
from ..pipeline.build import build_session
from .cases import Case, CaseError

MISS_AFTER_S = 3.0
FRAME_S = 0.02
RATE = 16_000


class CaseResult(BaseModel):
    case: str
    lang: str
    noise: str
    decisions_s: list[float]
    mids: int
    cut_ins: int
    delay_s: float | None
    missed: bool


class Breakdown(BaseModel):
    cases: int
    false_cut_in_rate: float | None
    delay_p50_s: float | None
    delay_p90_s: float | None
    missed: int


class PresetResult(BaseModel):
    preset: str
    overall: Breakdown
    by_lang: dict[str, Breakdown]
    by_noise: dict[str, Breakdown]
    cases: list[CaseResult]


class Report(BaseModel):
    presets: list[PresetResult]
    errors: list[CaseError]


class _CaseAudio(io.AudioInput):
    """The case's samples as 20 ms frames, paced by the wall clock, then silence until closed."""

    def __init__(self, case: Case) -> None:
        super().__init__(label="eval-case")
        x = case.samples.astype(np.float32)
        n_out = round(len(x) * RATE / case.rate)
        self._pcm = np.interp(np.linspace(0, len(x) - 1, n_out), np.arange(len(x)), x).astype(
            np.int16
        )
        self._n = int(RATE * FRAME_S)
        self._i = 0
        self._until_s = case.duration + 0.5  # a last decision may follow the audio's end
        self.started: float | None = None
        self.go = asyncio.Event()
        """Set once the session listens: audio before that would be skipped, not judged."""
        self.finished = asyncio.Event()
        self.closed = False

    async def __anext__(self) -> rtc.AudioFrame:
        if self.closed:
            raise StopAsyncIteration
        if not self.go.is_set():
            await asyncio.sleep(FRAME_S)
            return rtc.AudioFrame(bytes(2 * self._n), RATE, 1, self._n)
        if self.started is None:
            self.started = time.monotonic()
        await asyncio.sleep(max(0.0, self.started + self._i * FRAME_S - time.monotonic()))
        chunk = self._pcm[self._i * self._n : (self._i + 1) * self._n]
        chunk = np.pad(chunk, (0, self._n - len(chunk)))
        self._i += 1
        if self._i * FRAME_S >= self._until_s:
            self.finished.set()
        return rtc.AudioFrame(chunk.tobytes(), RATE, 1, self._n)


class _Listener(Agent):
    """Takes note of each turn the session ends, and never answers."""

    def __init__(self) -> None:
        super().__init__(instructions="Listen only.")
        self.turns_at: list[float] = []

    async def on_user_turn_completed(
        self, turn_ctx: llm.ChatContext, new_message: llm.ChatMessage
    ) -> None:
        self.turns_at.append(time.monotonic())
        raise StopResponse()


def config_for(preset: TurnPreset, lang: str) -> RoomConfig:
    return RoomConfig.model_validate(
        {
            "language": lang,
            "pipeline": OFFLINE_CASCADE,
            "turn_taking": {"preset": preset},
        }
    )


async def run_case(case: Case, preset: TurnPreset, vad_model: vad.VAD) -> CaseResult:
    session = await build_session(config_for(preset, case.labels.lang), vad_model)
    audio = _CaseAudio(case)
    listener = _Listener()
    session.input.audio = audio
    session.output.audio = None
    await session.start(agent=listener)
    await asyncio.sleep(0.5)  # the activity starts scheduling a moment after start() returns
    audio.go.set()
    try:
        await audio.finished.wait()
    finally:
        audio.closed = True
        await session.aclose()
    started = audio.started or time.monotonic()
    return score(case, [t - started for t in listener.turns_at])


def score(case: Case, decisions: list[float]) -> CaseResult:
    end = next(g for g in case.labels.gaps if g.kind == "end")
    mids = [g for g in case.labels.gaps if g.kind == "mid"]
    cut = set()
    for t in decisions:
        if t < end.start:
            before = [i for i, g in enumerate(mids) if g.start <= t]
            if before:
                cut.add(before[-1])
    answer = next((t - end.start for t in decisions if end.start <= t), None)
    missed = answer is None or answer > MISS_AFTER_S
    return CaseResult(
        case=case.name,
        lang=case.labels.lang,
        noise=case.labels.noise,
        decisions_s=[round(t, 3) for t in decisions],
        mids=len(mids),
        cut_ins=len(cut),
        delay_s=None if missed else answer,
        missed=missed,
    )


def breakdown(results: Iterable[CaseResult]) -> Breakdown:
    rs = list(results)
    mids = sum(r.mids for r in rs)
    delays = [r.delay_s for r in rs if r.delay_s is not None]
    return Breakdown(
        cases=len(rs),
        false_cut_in_rate=sum(r.cut_ins for r in rs) / mids if mids else None,
        delay_p50_s=statistics.median(delays) if delays else None,
        delay_p90_s=percentile(delays, 0.9),
        missed=sum(r.missed for r in rs),
    )


def summarize(preset: str, results: list[CaseResult]) -> PresetResult:
    def by(key: str) -> dict[str, Breakdown]:
        groups: dict[str, list[CaseResult]] = {}
        for r in results:
            groups.setdefault(getattr(r, key), []).append(r)
        return {k: breakdown(v) for k, v in sorted(groups.items())}

    return PresetResult(
        preset=preset,
        overall=breakdown(results),
        by_lang=by("lang"),
        by_noise=by("noise"),
        cases=results,
    )


async def evaluate(cases: list[Case], presets: list[TurnPreset], vad_model: vad.VAD) -> list[Any]:
    out = []
    for preset in presets:
        results = []
        for case in cases:
            r = await run_case(case, preset, vad_model)
            print(
                f"  {preset:16s} {case.name:28s} decisions {r.decisions_s} "
                f"cut-ins {r.cut_ins}/{r.mids} delay "
                + (f"{r.delay_s:.2f} s" if r.delay_s is not None else "missed"),
                flush=True,
            )
            results.append(r)
        out.append(summarize(preset, results))
    return out


def print_report(report: Report) -> None:
    for e in report.errors:
        print(f"  skipped {e.file}: {e.reason}")
    print(
        f"\n{'preset':16s} {'group':14s} {'cases':>5s} {'cut-ins':>8s} {'p50':>6s} {'p90':>6s} "
        f"{'missed':>6s}"
    )
    for p in report.presets:
        rows = (
            [("all", p.overall)]
            + [(f"lang {k}", v) for k, v in p.by_lang.items()]
            + [(f"noise {k}", v) for k, v in p.by_noise.items()]
        )
        for name, b in rows:
            cut = f"{b.false_cut_in_rate:.0%}" if b.false_cut_in_rate is not None else "-"
            p50 = f"{b.delay_p50_s:.2f}" if b.delay_p50_s is not None else "-"
            p90 = f"{b.delay_p90_s:.2f}" if b.delay_p90_s is not None else "-"
            print(
                f"{p.preset:16s} {name:14s} {b.cases:5d} {cut:>8s} {p50:>6s} {p90:>6s} "
                f"{b.missed:6d}"
            )


def main(argv: list[str]) -> int:
    import argparse

    from livekit.plugins import silero

    from .cases import load_cases

    parser = argparse.ArgumentParser(prog="python -m agent eval turns", description=__doc__)
    parser.add_argument("--cases", type=Path, required=True)
    parser.add_argument(
        "--preset",
        nargs="+",
        choices=[p for p in TURN_PRESETS if p != "livekit-default"],
        help="the presets to compare with livekit-default (default: all)",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    cases, errors = load_cases(args.cases)
    if not cases:
        print(f"no readable case in {args.cases}: {[e.reason for e in errors]}")
        return 2
    presets: list[TurnPreset] = ["livekit-default"]
    presets += args.preset or [p for p in TURN_PRESETS if p != "livekit-default"]
    report = Report(presets=asyncio.run(evaluate(cases, presets, silero.VAD.load())), errors=errors)
    print_report(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(report.model_dump_json(indent=2))
        print(f"JSON: {args.json}")
    return 0
