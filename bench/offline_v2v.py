"""Voice-to-voice latency of the offline cascade, through the real server, as a user hears it.

    scripts/bench offline_v2v [--turns 12]

Starts livekit-server and a worker with no provider keys (so its default is the offline
cascade), joins one room as a user and speaks real recordings turn after turn. Prints, per
turn and as percentiles, the client-observed voice-to-voice time and the agent's own split
(transcription, end of turn, LLM first token, TTS first audio), then the resident memory of
the worker's processes; writes the same as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
from pathlib import Path

from livekit.plugins.participants import percentile
from pydantic import BaseModel

from agent import protocol
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
    summary: dict[str, dict[str, float]]
    """Metric → {p50, p90, mean} in seconds."""
    memory: list[ProcessMemory]
    job_pid: int | None
    """The process that served the room (from the worker's turn-timing log line)."""
    target_p50_s: float = TARGET_P50_S


def percentiles(values: list[float]) -> dict[str, float | None]:
    return {
        "p50": statistics.median(values),
        "p90": percentile(values, 0.9),
        "p95": percentile(values, 0.95),
        "mean": statistics.fmean(values),
    }


async def measure(turns: int, log_dir: Path) -> Result:
    server = start_livekit_server(log_dir, isolated_ports=True)
    # No provider key: the worker's default is the offline cascade.
    env = worker_env(server, PARLEY_IDLE_PROCESSES="1")
    worker = start_worker(log_dir, env, agent_name="parley-bench")
    measured: list[Turn] = []
    try:
        async with joined_room(server, worker.agent_name, prefix="bench") as user:
            for i in range(turns):
                name = CLIPS[i % len(CLIPS)]
                ex = await converse(user, clip(name))
                turn = Turn(
                    clip=name,
                    v2v_s=ex.v2v_s,
                    wer=word_error_rate(known_text(name), ex.user_transcript),
                    timing=ex.timing,
                )
                measured.append(turn)
                split = "  ".join(f"{k}={v * 1000:.0f}" for k, v in ex.timing.items())
                print(f"turn {i + 1:2d} {name:16s} v2v={ex.v2v_s * 1000:5.0f} ms  {split}")
            memory = tree_memory(worker.process.pid)  # while the room's job is alive
            job_pid = serving_pid(worker.process.log_text())
    finally:
        worker.stop()
        server.stop()
    summary = {"v2v": percentiles([t.v2v_s for t in measured])}
    for stage in STAGES:
        values = [t.timing[stage] for t in measured if stage in t.timing]
        if values:
            summary[stage] = percentiles(values)
    return Result(turns=measured, summary=summary, memory=memory, job_pid=job_pid)


def serving_pid(worker_log: str) -> int | None:
    for line in reversed(worker_log.splitlines()):
        if protocol.TURN in line and line.startswith("{"):
            return int(json.loads(line)["pid"])
    return None


def report(result: Result) -> None:
    print(f"\n{'metric':22s} {'p50':>8s} {'p90':>8s} {'mean':>8s}  (ms)")
    for metric, stats in result.summary.items():
        p50, p90, mean = (stats[k] * 1000 for k in ("p50", "p90", "mean"))
        print(f"{metric:22s} {p50:8.0f} {p90:8.0f} {mean:8.0f}")
    wer = statistics.fmean(t.wer for t in result.turns)
    print(f"mean WER of the user transcripts: {wer:.2f}")
    print(f"\n{'RSS MB':>8s} {'PSS MB':>8s}  process")
    for proc in result.memory:
        role = "job (served the room)" if proc.pid == result.job_pid else proc.command[:70]
        print(f"{proc.rss_mb:8.0f} {proc.pss_mb:8.0f}  pid {proc.pid} {role}")
    p50 = result.summary["v2v"]["p50"]
    verdict = "meets" if p50 <= TARGET_P50_S else "MISSES"
    print(f"\nv2v p50 {p50 * 1000:.0f} ms {verdict} the {TARGET_P50_S} s target")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=12)
    parser.add_argument("--json", type=Path, default=ROOT / "artifacts/bench/offline_v2v.json")
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    result = asyncio.run(measure(args.turns, log_dir))
    report(result)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result.model_dump(), indent=2))
    print(f"JSON: {args.json}   logs: {log_dir}")


if __name__ == "__main__":
    main()
