"""``python -m agent eval turns``: turn-taking presets measured on labelled recordings.

Each case runs through the worker's own session builder (``build_session``: silero VAD, the
local end-of-turn model, offline Whisper, the preset's endpointing), as a room would, with the
audio fed in real time: livekit-agents' timers run on the wall clock, so feeding faster would
change its decisions. The agent never answers (``StopResponse``), so every decision is about
the user's turn alone. Each decision time is compared with the labels:

- a decision before the ``end`` gap is a false cut-in at the ``mid`` gap before it;
- the first decision in the ``end`` gap gives the response delay; none within 3 s is a miss.

``--jobs N`` runs N cases at once (each is real time; mind the CPU: the delays grow when it
is short). Each case's report lists every end-of-turn prediction and, for each cut-in, the
pause it cut and the probability the session was handed there, so a regression can be read.
A "preset" is a preset's name or a whole ``turn_taking`` object in JSON, to try a variant.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from livekit import rtc
from livekit.agents import Agent, StopResponse, llm, vad
from livekit.agents.voice import io
from livekit.plugins.participants import percentile
from pydantic import BaseModel, ValidationError

from ..config.defaults import OFFLINE_CASCADE
from ..config.models import TURN_PRESETS, RoomConfig, TurnTaking
from ..pipeline.build import build_session, listen_through
from .cases import After, Case, CaseError

MISS_AFTER_S = 3.0
FRAME_S = 0.02
RATE = 16_000


class CutIn(BaseModel):
    pause: int
    """Which ``mid`` gap (0 is the first)."""
    at_s: float
    """Into the pause."""
    probability: float | None
    """The end-of-turn probability the session was handed last before it decided."""
    after: After | None = None
    """What the pause followed, where the case says (words inside a sentence, or one whole)."""


class CaseResult(BaseModel):
    case: str
    lang: str
    noise: str
    voice: str = ""
    decisions_s: list[float]
    predictions: list[tuple[float, float]] = []
    """(time, probability) of each end-of-turn prediction."""
    mids: int
    mids_after: list[After | None] = []
    """Each ``mid`` gap's ``after`` label, in order."""
    cut_ins: int
    cuts: list[CutIn] = []
    delay_s: float | None
    missed: bool


class Breakdown(BaseModel):
    cases: int
    false_cut_in_rate: float | None
    cut_in_rate_after_words: float | None = None
    """Over the pauses inside a sentence only (labelled ``after: words``)."""
    cut_in_rate_after_sentence: float | None = None
    """Over the pauses between two whole sentences only."""
    delay_p50_s: float | None
    delay_p90_s: float | None
    missed: int


class PresetResult(BaseModel):
    preset: str
    overall: Breakdown
    by_lang: dict[str, Breakdown]
    by_noise: dict[str, Breakdown]
    by_voice: dict[str, Breakdown] = {}
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


def config_for(turn_taking: TurnTaking, lang: str) -> RoomConfig:
    return RoomConfig.model_validate(
        {
            "language": lang,
            "pipeline": OFFLINE_CASCADE,
            "turn_taking": turn_taking.model_dump(exclude_unset=True),
        }
    )


async def run_case(case: Case, turn_taking: TurnTaking, vad_model: vad.VAD) -> CaseResult:
    predictions: list[tuple[float, float]] = []
    config = config_for(turn_taking, case.labels.lang)
    session = await build_session(config, vad_model, lambda p, at: predictions.append((at, p)))
    audio = _CaseAudio(case)
    listener = _Listener()
    session.input.audio = audio
    session.output.audio = None
    await session.start(agent=listener)
    listen_through(session, config)
    await asyncio.sleep(0.5)  # the activity starts scheduling a moment after start() returns
    audio.go.set()
    try:
        await audio.finished.wait()
    finally:
        audio.closed = True
        await session.aclose()
    started = audio.started or time.monotonic()
    return score(
        case,
        [t - started for t in listener.turns_at],
        [(round(at - started, 3), round(p, 4)) for at, p in predictions],
    )


def score(
    case: Case, decisions: list[float], predictions: list[tuple[float, float]] | None = None
) -> CaseResult:
    predictions = predictions or []
    end = next(g for g in case.labels.gaps if g.kind == "end")
    mids = [g for g in case.labels.gaps if g.kind == "mid"]
    cuts: dict[int, CutIn] = {}
    for t in decisions:
        if t < end.start:
            before = [i for i, g in enumerate(mids) if g.start <= t]
            if before and before[-1] not in cuts:
                last = [p for at, p in predictions if at <= t]
                cuts[before[-1]] = CutIn(
                    pause=before[-1],
                    at_s=round(t - mids[before[-1]].start, 3),
                    probability=last[-1] if last else None,
                    after=mids[before[-1]].after,
                )
    answer = next((t - end.start for t in decisions if end.start <= t), None)
    missed = answer is None or answer > MISS_AFTER_S
    return CaseResult(
        case=case.name,
        lang=case.labels.lang,
        noise=case.labels.noise,
        voice=case.labels.voice,
        decisions_s=[round(t, 3) for t in decisions],
        predictions=predictions,
        mids=len(mids),
        mids_after=[g.after for g in mids],
        cut_ins=len(cuts),
        cuts=list(cuts.values()),
        delay_s=None if missed else answer,
        missed=missed,
    )


def _rate_after(rs: list[CaseResult], after: After) -> float | None:
    pauses = sum(r.mids_after.count(after) for r in rs)
    return sum(c.after == after for r in rs for c in r.cuts) / pauses if pauses else None


def breakdown(results: Iterable[CaseResult]) -> Breakdown:
    rs = list(results)
    mids = sum(r.mids for r in rs)
    delays = [r.delay_s for r in rs if r.delay_s is not None]
    return Breakdown(
        cases=len(rs),
        false_cut_in_rate=sum(r.cut_ins for r in rs) / mids if mids else None,
        cut_in_rate_after_words=_rate_after(rs, "words"),
        cut_in_rate_after_sentence=_rate_after(rs, "sentence"),
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
        by_voice=by("voice"),
        cases=results,
    )


def label(turn_taking: TurnTaking) -> str:
    fields = turn_taking.model_dump(exclude_unset=True, exclude_none=True)
    fields.pop("preset", None)
    return " ".join([turn_taking.preset, *(f"{k}={json.dumps(v)}" for k, v in fields.items())])


async def evaluate(
    cases: list[Case], variants: list[TurnTaking], vad_model: vad.VAD, jobs: int = 1
) -> list[PresetResult]:
    out = []
    slots = asyncio.Semaphore(jobs)
    for turn_taking in variants:
        name = label(turn_taking)

        async def one(case: Case, turn_taking: TurnTaking = turn_taking) -> CaseResult:
            async with slots:
                r = await run_case(case, turn_taking, vad_model)
            cut = ", ".join(
                f"pause {c.pause + 1} at +{c.at_s:.2f} s (p={c.probability})" for c in r.cuts
            )
            print(
                f"  {case.name:40s} cut-ins {r.cut_ins}/{r.mids} delay "
                + (f"{r.delay_s:.2f} s" if r.delay_s is not None else "MISSED")
                + (f"; cut {cut}" if cut else ""),
                flush=True,
            )
            return r

        print(f"{name}:", flush=True)
        results = await asyncio.gather(*(one(c) for c in cases))
        out.append(summarize(name, list(results)))
    return out


def print_report(report: Report) -> None:
    for e in report.errors:
        print(f"  skipped {e.file}: {e.reason}")
    print(
        f"\n{'group':18s} {'cases':>5s} {'cut-ins':>8s} {'in-sent':>8s} {'betw':>5s} "
        f"{'p50':>6s} {'p90':>6s} {'missed':>6s}"
    )
    for p in report.presets:
        print(p.preset)
        rows = (
            [("all", p.overall)]
            + [(f"lang {k}", v) for k, v in p.by_lang.items()]
            + [(f"noise {k}", v) for k, v in p.by_noise.items()]
            + [(f"voice {k}", v) for k, v in p.by_voice.items() if k]
        )
        for name, b in rows:
            cut, words, between = (
                f"{r:.0%}" if r is not None else "-"
                for r in (
                    b.false_cut_in_rate,
                    b.cut_in_rate_after_words,
                    b.cut_in_rate_after_sentence,
                )
            )
            p50 = f"{b.delay_p50_s:.2f}" if b.delay_p50_s is not None else "-"
            p90 = f"{b.delay_p90_s:.2f}" if b.delay_p90_s is not None else "-"
            print(
                f"{name:18s} {b.cases:5d} {cut:>8s} {words:>8s} {between:>5s} "
                f"{p50:>6s} {p90:>6s} {b.missed:6d}"
            )


def variant(text: str) -> TurnTaking:
    """A preset's name, or a ``turn_taking`` object in JSON."""
    import argparse

    try:
        if text.lstrip().startswith("{"):
            return TurnTaking.model_validate_json(text)
        return TurnTaking.model_validate({"preset": text})
    except ValidationError as e:
        raise argparse.ArgumentTypeError(f"{text}: {e.errors()[0]['msg']}") from None


def main(argv: list[str]) -> int:
    import argparse

    from livekit.plugins import silero

    from .cases import load_cases

    parser = argparse.ArgumentParser(prog="python -m agent eval turns", description=__doc__)
    parser.add_argument("--cases", type=Path, required=True)
    parser.add_argument(
        "--preset",
        nargs="+",
        type=variant,
        help="the presets to compare with livekit-default (default: all): names, or "
        'turn_taking objects in JSON such as \'{"preset":"telephony","end_of_turn":"both"}\'',
    )
    parser.add_argument("--jobs", type=int, default=1, help="cases run at once (default 1)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    cases, errors = load_cases(args.cases)
    if not cases:
        print(f"no readable case in {args.cases}: {[e.reason for e in errors]}")
        return 2
    others = args.preset or [TurnTaking(preset=p) for p in TURN_PRESETS[1:]]
    variants = [TurnTaking(preset="livekit-default"), *others]
    results = asyncio.run(evaluate(cases, variants, silero.VAD.load(), max(1, args.jobs)))
    report = Report(presets=results, errors=errors)
    print_report(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(report.model_dump_json(indent=2))
        print(f"JSON: {args.json}")
    return 0
