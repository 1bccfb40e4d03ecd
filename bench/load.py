"""Many rooms on one worker: voice-to-voice p95, CPU and memory per room, through the real server.

    scripts/bench load [--rooms 1 5 10 25] [--turns 3]

Starts livekit-server, the fake providers (OpenAI Realtime, answering at once) and one Parley
worker. For each level, that many rooms are opened at once, each with one user; when every
agent listens, all users speak real recordings at the same time, ``--turns`` times. Prints
per level the client-observed v2v p50/p95, the machine's CPU use while the turns ran, and
the resident memory (RSS and PSS) of the job processes; writes JSON. The users run in this
process on the same 2 cores, so the CPU figure includes the clients' own work.
Target: 25 rooms with v2v p95 at most 20 % above the 1-room level and ≤ 150 MB per room.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

from pydantic import BaseModel

from stack.fakes import start_fakes
from stack.livekit_server import LiveKitServer, start_livekit_server
from stack.memory import machine_busy_seconds, tree_memory
from stack.process import ROOT
from stack.recordings import CLIPS, clip
from stack.rooms import converse, joined_room
from stack.worker import WorkerProcess, start_worker, worker_env

from .latency import REALTIME
from .offline_v2v import percentiles


class Level(BaseModel):
    rooms: int
    turns: int
    v2v: dict[str, float]
    cpu_percent: float
    """Whole machine, both cores = 200 %."""
    job_processes: int
    rss_mb_per_room: float
    pss_mb_per_room: float


async def measure_level(
    server: LiveKitServer, worker: WorkerProcess, rooms: int, turns: int
) -> Level:
    async with AsyncExitStack() as stack:
        users = [
            await stack.enter_async_context(
                joined_room(server, worker.agent_name, dispatch_metadata=REALTIME, prefix="load")
            )
            for _ in range(rooms)
        ]
        await asyncio.gather(*(u.wait_for_agent_state("listening", timeout=180) for u in users))
        busy0, started = machine_busy_seconds(), time.monotonic()
        v2v: list[float] = []
        for i in range(turns):
            exchanges = await asyncio.gather(
                *(converse(u, clip(CLIPS[(i + k) % len(CLIPS)])) for k, u in enumerate(users))
            )
            v2v += [e.v2v_s for e in exchanges]
            print(f"  {rooms:2d} rooms turn {i + 1}: v2v p50 {statistics.median(v2v):.3f} s")
        cpu = (machine_busy_seconds() - busy0) / (time.monotonic() - started) * 100
        jobs = [p for p in tree_memory(worker.process.pid) if p.pid != worker.process.pid]
        busy = sorted(jobs, key=lambda p: p.rss_mb, reverse=True)[:rooms]
        print(f"  {rooms:2d} rooms: {time.monotonic() - started:.0f} s of turns")
    level = Level(
        rooms=rooms,
        turns=turns,
        v2v=percentiles(v2v),
        cpu_percent=cpu,
        job_processes=len(jobs),
        rss_mb_per_room=statistics.fmean(p.rss_mb for p in busy),
        pss_mb_per_room=statistics.fmean(p.pss_mb for p in busy),
    )
    print(f"  {rooms:2d} rooms: {level.model_dump_json()}")  # a later level may not finish
    return level


async def measure(levels: list[int], turns: int, log_dir: Path) -> list[Level]:
    server = start_livekit_server(log_dir, isolated_ports=True)
    fakes = start_fakes(log_dir)
    worker = start_worker(log_dir, worker_env(server, fakes), agent_name="parley-bench-load")
    try:
        return [await measure_level(server, worker, n, turns) for n in levels]
    finally:
        worker.stop()
        fakes.stop()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, nargs="+", default=[1, 5, 10, 25])
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--json", type=Path, default=ROOT / "artifacts/bench/load.json")
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    levels = asyncio.run(measure(args.rooms, args.turns, log_dir))
    base = levels[0].v2v["p95"]
    print(f"\n{'rooms':>5s} {'v2v p50':>8s} {'p95':>6s} {'p95 vs first':>12s} {'CPU':>6s} "
          f"{'jobs':>4s} {'RSS/room':>9s} {'PSS/room':>9s}")  # fmt: skip
    for lv in levels:
        print(
            f"{lv.rooms:5d} {lv.v2v['p50'] * 1000:6.0f}ms {lv.v2v['p95'] * 1000:4.0f}ms "
            f"{(lv.v2v['p95'] / base - 1) * 100:+11.0f}% {lv.cpu_percent:5.0f}% "
            f"{lv.job_processes:4d} {lv.rss_mb_per_room:7.0f}MB {lv.pss_mb_per_room:7.0f}MB"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps([lv.model_dump() for lv in levels], indent=2))
    print(f"JSON: {args.json}   logs: {log_dir}")


if __name__ == "__main__":
    main()
