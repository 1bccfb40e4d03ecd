"""Voice-to-voice latency of the offline cascade, through the real server, as a user hears it.

    scripts/bench offline_v2v [--turns 12] [--preemptive off llm]

Starts livekit-server and a worker with no provider keys (so its default is the offline
cascade), joins one room as a user and speaks real recordings turn after turn. Prints, per
turn and as percentiles, the client-observed voice-to-voice time and the agent's own split
(transcription, end of turn, LLM first token, TTS first audio), then the resident memory of
the worker's processes; writes the same as JSON. ``--preemptive``: one room per value of
``turn_taking.preemptive``, side by side in the same run, their turns alternating (the same
clip in each room before the next), then a comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path
from typing import get_args

from livekit.plugins.participants import percentile
from pydantic import BaseModel

from agent.config.models import EarlyStart
from stack.livekit_server import start_livekit_server
from stack.memory import ProcessMemory, tree_memory
from stack.process import ROOT
from stack.recordings import CLIPS, clip, known_text, word_error_rate
from stack.rooms import converse, joined_room
from stack.worker import start_worker, worker_env

STAGES = (
    "transcription_delay",
    "end_of_turn_delay",
    "llm_ttft",
    "llm_ttfs",
    "tts_ttfb",
    "e2e_latency",
)
TARGET_P50_S = 1.5


class Turn(BaseModel):
    clip: str
    v2v_s: float
    wer: float
    timing: dict[str, float]


class Result(BaseModel):
    turns: list[Turn]
    summary: dict[str, dict[str, float | None]]
    """Metric → {p50, p90, mean} in seconds."""
    job_pid: int
    """The process that served the room."""
    target_p50_s: float = TARGET_P50_S
    preemptive: str | None = None
    """The room's ``turn_taking.preemptive``; unset: the preset's."""


class Run(BaseModel):
    rooms: list[Result]
    memory: list[ProcessMemory]
    """The worker's processes, while the rooms' jobs were alive."""


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return dict.fromkeys(("p50", "p90", "p95", "mean"))
    return {
        "p50": statistics.median(values),
        "p90": percentile(values, 0.9),
        "p95": percentile(values, 0.95),
        "mean": statistics.fmean(values),
    }


async def measure(turns: int, log_dir: Path, variants: list[str | None]) -> Run:
    server = start_livekit_server(log_dir, isolated_ports=True)
    # No provider key: the worker's default is the offline cascade.
    env = worker_env(server, PARLEY_IDLE_PROCESSES=str(len(variants)))
    worker = start_worker(log_dir, env, agent_name="parley-bench")
    measured: list[list[Turn]] = [[] for _ in variants]
    try:
        async with AsyncExitStack() as stack:
            users = [
                await stack.enter_async_context(
                    joined_room(
                        server,
                        worker.agent_name,
                        dispatch_metadata={} if v is None else {"turn_taking": {"preemptive": v}},
                        prefix="bench",
                    )
                )
                for v in variants
            ]
            for i in range(turns):
                name = CLIPS[i % len(CLIPS)]
                for user, variant, done in zip(users, variants, measured, strict=True):
                    ex = await converse(user, clip(name))
                    done.append(
                        Turn(
                            clip=name,
                            v2v_s=ex.v2v_s,
                            wer=word_error_rate(known_text(name), ex.user_transcript),
                            timing=ex.timing,
                        )
                    )
                    split = "  ".join(f"{k}={v * 1000:.0f}" for k, v in ex.timing.items())
                    label = "" if variant is None else f"{variant:4s} "
                    print(
                        f"turn {i + 1:2d} {label}{name:16s} v2v={ex.v2v_s * 1000:5.0f} ms  {split}"
                    )
            memory = tree_memory(worker.process.pid)  # while the rooms' jobs are alive
            job_pids = [worker.job_pid(user.room.name or "") for user in users]
    finally:
        worker.stop()
        server.stop()
    rooms = [
        Result(turns=done, summary=summarize(done), job_pid=pid, preemptive=variant)
        for variant, done, pid in zip(variants, measured, job_pids, strict=True)
    ]
    return Run(rooms=rooms, memory=memory)


def summarize(turns: list[Turn]) -> dict[str, dict[str, float | None]]:
    summary = {"v2v": percentiles([t.v2v_s for t in turns])}
    for stage in STAGES:
        values = [t.timing[stage] for t in turns if stage in t.timing]
        if values:
            summary[stage] = percentiles(values)
    return summary


def _ms(seconds: float | None) -> str:
    return f"{'-':>8s}" if seconds is None else f"{seconds * 1000:8.0f}"


def report(run: Run) -> None:
    for result in run.rooms:
        if result.preemptive is not None:
            print(f"\n--- turn_taking.preemptive = {result.preemptive}")
        print(f"\n{'metric':22s} {'p50':>8s} {'p90':>8s} {'mean':>8s}  (ms)")
        for metric, stats in result.summary.items():
            print(f"{metric:22s} " + " ".join(_ms(stats[k]) for k in ("p50", "p90", "mean")))
        wer = statistics.fmean(t.wer for t in result.turns)
        print(f"mean WER of the user transcripts: {wer:.2f}")
        p50 = statistics.median(t.v2v_s for t in result.turns)
        verdict = "meets" if p50 <= TARGET_P50_S else "MISSES"
        print(f"v2v p50 {p50 * 1000:.0f} ms {verdict} the {TARGET_P50_S} s target")
    served = {r.job_pid: r.preemptive for r in run.rooms}
    print(f"\n{'RSS MB':>8s} {'PSS MB':>8s}  process")
    for proc in run.memory:
        if proc.pid in served:
            role = "job (served the room)" + (f" {served[proc.pid]}" if served[proc.pid] else "")
        else:
            role = proc.command[:70]
        print(f"{proc.rss_mb:8.0f} {proc.pss_mb:8.0f}  pid {proc.pid} {role}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=12)
    parser.add_argument(
        "--preemptive",
        nargs="+",
        choices=get_args(EarlyStart),
        help="one room per value, side by side (default: one room, the preset's)",
    )
    parser.add_argument("--json", type=Path, default=ROOT / "artifacts/bench/offline_v2v.json")
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    run = asyncio.run(measure(args.turns, log_dir, args.preemptive or [None]))
    report(run)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(run.model_dump(), indent=2))
    print(f"JSON: {args.json}   logs: {log_dir}")


if __name__ == "__main__":
    main()
