"""The intake mode per pipeline, through the real server, on a scripted caller set.

    scripts/bench intake [--pipelines offline-cascade openai-realtime openai-cascade
                          google-realtime] [--callers plain hesitant corrects chest-pain
                          breathing] [--json artifacts/bench/intake.json]

Each caller of ``stack.intake.CALLERS`` (plain, hesitant, one who corrects an answer at the
read-back) answers the six-item questionnaire; on the offline cascade each also calls through
a phone band (8 kHz, μ-law), since there the agent hears the audio itself. The fakes hear
nothing: on their pipelines the script says what they "hear" and what the model records, so
those rows measure the tool path and the timing, not recognition. Each red-flag caller of
``stack.intake.RED_FLAGS`` says a red-flag sentence mid-intake.

Prints per pipeline: the share of items recorded right, the median time per item (between
the records that gained an answer), v2v per turn (end of the caller's words → the agent's
first sound), the red flags caught and the time from the end of the sentence to the safety
message; writes the same as JSON. Goals: every red flag caught, ≥ 95 % of items right on the
offline cascade, safety message ≤ 1.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from livekit.plugins.participants import percentile
from pydantic import BaseModel

from stack.fakes import FakeProviders, start_fakes
from stack.intake import CALLERS, PIPELINES, RED_FLAGS, Script, call, config, scripted
from stack.livekit_server import LiveKitServer, start_livekit_server
from stack.participant import wait_for
from stack.process import ROOT
from stack.recordings import by_phone, spoken
from stack.webhook import receiving
from stack.worker import WorkerProcess, start_worker, worker_env

SAFETY_GOAL_S = 1.5
ITEMS_GOAL = 0.95


class CallResult(BaseModel):
    pipeline: str
    caller: str
    voice: str
    items: int
    right: int
    status: str
    astray: str | None
    """What the caller waited for in vain, if the call went off its script."""
    wrong: dict[str, Any]
    """Items not recorded as scripted: what the record had instead (None: missing)."""
    v2v_s: list[float]
    item_s: list[float]
    safety_s: float | None = None
    """Red-flag callers: end of the red-flag sentence → first sound of the safety message."""
    caught: bool | None = None


class PipelineSummary(BaseModel):
    items_right: float
    item_s_p50: float | None
    v2v_s_p50: float | None
    v2v_s_p90: float | None
    red_flags_caught: str
    safety_s_max: float | None


class Result(BaseModel):
    calls: list[CallResult]
    summary: dict[str, PipelineSummary]
    goals: dict[str, float] = {"safety_s": SAFETY_GOAL_S, "offline_items_right": ITEMS_GOAL}


def phone(text: str) -> Path:
    return by_phone(spoken(text))


def voices(pipeline: str) -> dict[str, Callable[[str], Path]]:
    """The fakes hear no audio: only the offline cascade is worth calling by phone."""
    if pipeline == "offline-cascade":
        return {"clean": spoken, "phone": phone}
    return {"clean": spoken}


async def one_call(
    server: LiveKitServer,
    worker: WorkerProcess,
    fakes: FakeProviders,
    pipeline: str,
    script: Script,
    voice: str,
) -> CallResult:
    room_config = config(pipeline, "")
    async with receiving([200]) as hook:
        room_config["intake"]["webhook_url"] = hook.url
        with scripted(fakes, pipeline, script):
            done = await call(server, worker, room_config, script, voice=voices(pipeline)[voice])
            # the final record reaches the webhook after the call: a short wait keeps it
            with contextlib.suppress(TimeoutError):
                await wait_for(lambda: hook.bodies, "the record at the webhook", timeout=10)
    last: dict[str, Any] = done.records[-1] if done.records else {"answers": {}, "status": "none"}
    answers: dict[str, Any] = last["answers"]
    right = sum(answers.get(k) == v for k, v in script.answers.items())
    flagged = script.rule is not None
    escalated = (last.get("escalation") or {}).get("rule")
    return CallResult(
        pipeline=pipeline,
        caller=script.name,
        voice=voice,
        items=len(script.answers),
        right=right,
        status=last["status"],
        astray=done.astray,
        wrong={
            k: last["answers"].get(k)
            for k, v in script.answers.items()
            if last["answers"].get(k) != v
        },
        v2v_s=done.v2v_s[:-1] if flagged else done.v2v_s,
        item_s=done.item_times(),
        safety_s=done.v2v_s[-1] if flagged and done.astray is None else None,
        caught=escalated == script.rule if flagged else None,
    )


def summarize(calls: list[CallResult]) -> PipelineSummary:
    answered = [c for c in calls if c.caught is None]
    flagged = [c for c in calls if c.caught is not None]
    v2v = [v for c in calls for v in c.v2v_s]
    items = [t for c in answered for t in c.item_s]
    safety = [c.safety_s for c in flagged if c.safety_s is not None]
    return PipelineSummary(
        items_right=sum(c.right for c in answered) / max(1, sum(c.items for c in answered)),
        item_s_p50=statistics.median(items) if items else None,
        v2v_s_p50=statistics.median(v2v) if v2v else None,
        v2v_s_p90=percentile(v2v, 0.9),
        red_flags_caught=f"{sum(bool(c.caught) for c in flagged)}/{len(flagged)}",
        safety_s_max=max(safety) if safety else None,
    )


async def measure(pipelines: list[str], callers: list[str], log_dir: Path) -> Result:
    server = start_livekit_server(log_dir, isolated_ports=True)
    fakes = start_fakes(log_dir)
    worker = start_worker(log_dir, worker_env(server, fakes), agent_name="parley-bench-intake")
    calls: list[CallResult] = []
    try:
        for pipeline in pipelines:
            for script in (s for s in [*CALLERS, *RED_FLAGS] if s.name in callers):
                for voice in voices(pipeline):
                    result = await one_call(server, worker, fakes, pipeline, script, voice)
                    calls.append(result)
                    safety = f" safety {result.safety_s:.2f} s" if result.safety_s else ""
                    wrong = f" wrong {result.wrong}" if result.wrong else ""
                    wrong += f" (astray: waited for {result.astray})" if result.astray else ""
                    print(
                        f"{pipeline:16s} {script.name:11s} {voice:6s} {result.status:11s} "
                        f"{result.right}/{result.items} right{safety}{wrong}",
                        flush=True,
                    )
    finally:
        worker.stop()
        fakes.stop()
        server.stop()
    summary = {p: summarize([c for c in calls if c.pipeline == p]) for p in pipelines}
    return Result(calls=calls, summary=summary)


def _s(x: float | None) -> str:
    return f"{x:.2f}" if x is not None else "-"


def report(result: Result) -> None:
    columns = ("items right", "s/item", "v2v p50", "v2v p90", "flags", "safety max")
    print(f"\n{'pipeline':16s} " + " ".join(f"{c:>10s}" for c in columns))
    for pipeline, s in result.summary.items():
        print(
            f"{pipeline:16s} {s.items_right:10.0%} {_s(s.item_s_p50):>10s} {_s(s.v2v_s_p50):>10s} "
            f"{_s(s.v2v_s_p90):>10s} {s.red_flags_caught:>10s} {_s(s.safety_s_max):>10s}"
        )
    print(
        f"goals: every red flag caught, safety message ≤ {SAFETY_GOAL_S} s, "
        f"≥ {ITEMS_GOAL:.0%} of items right on the offline cascade"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="scripts/bench intake", description=__doc__)
    pipelines = list(PIPELINES)
    parser.add_argument("--pipelines", nargs="+", choices=pipelines, default=pipelines)
    names = [s.name for s in [*CALLERS, *RED_FLAGS]]
    parser.add_argument("--callers", nargs="+", choices=names, default=names)
    parser.add_argument("--json", type=Path, default=ROOT / "artifacts/bench/intake.json")
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="parley-bench-intake-"))
    result = asyncio.run(measure(args.pipelines, args.callers, log_dir))
    report(result)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(result.model_dump_json(indent=2))
    print(f"JSON: {args.json}")


if __name__ == "__main__":
    main()
