"""Many rooms on one worker: voice-to-voice p95, CPU and memory per room, through the real server.

    scripts/bench load [--rooms 1 8 25] [--turns 3] [--executor process thread] [--workers 1 2]
                       [--pipeline realtime local offline]

Starts livekit-server and the fake providers (OpenAI Realtime, answering at once); for each
pipeline (``realtime``: that fake; ``local``: that fake with the worker ending the turns, its
VAD, end-of-turn models and early answers; ``offline``: the embedded cascade, Whisper, SmolLM2 and
espeak-ng on these cores), job executor (``PARLEY_JOB_EXECUTOR``) and worker count, that many
Parley workers (several share the rooms through LiveKit's dispatcher, by the load each
reports). For each level, that many rooms are opened at once, each with one user; when every
agent listens, all users speak real recordings at the same time, ``--turns`` times. The users
are one Go process (testkit/loadgen: pion, Opus encoded once), so they take little of the cores
the workers need. Prints per level the client-observed v2v p50/p95, the job start (dispatch →
the agent listening), failed rooms, the CPU of the workers (their processes together), of the
users (the load generator) and of livekit-server, and the workers' proportional memory (PSS),
per room beyond the first level's; writes JSON. Levels run in order on the same workers; each
level's rooms are deleted before the next.
Targets: 25 realtime rooms with v2v p95 at most 25 % above the 1-room level, 0 failed rooms,
≤ 80 MB PSS per room beyond the first; the most offline rooms that hold v2v p95 ≤ 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from agent.config.defaults import OFFLINE_CASCADE
from agent.rooms import delete_room
from agent.settings import JobExecutor
from stack.fakes import FakeProviders, start_fakes
from stack.livekit_server import API_KEY, API_SECRET, LiveKitServer, start_livekit_server
from stack.loadgen import start_users
from stack.memory import cpu_seconds, machine_busy_seconds, tree_cpu_seconds, tree_memory
from stack.process import ROOT
from stack.recordings import CLIPS, clip
from stack.worker import WorkerProcess, start_worker, worker_env

from .latency import LOCAL, REALTIME
from .offline_v2v import percentiles

ANSWER_S = 60.0
"""How long a user waits for the agent to listen, to answer, or to finish its answer: a room
that waits longer has failed."""

Pipeline = Literal["realtime", "local", "offline"]
CONFIGS: dict[Pipeline, dict[str, Any]] = {
    "realtime": REALTIME,
    "local": LOCAL,
    "offline": {"pipeline": OFFLINE_CASCADE},
}


@dataclass(frozen=True)
class Arm:
    """What one set of levels runs on."""

    pipeline: Pipeline
    executor: JobExecutor
    workers: int

    @property
    def label(self) -> str:
        return f"{self.pipeline}/{self.executor}×{self.workers}"


class Level(BaseModel):
    pipeline: Pipeline
    executor: JobExecutor
    workers: int
    rooms: int
    turns: int
    failed_rooms: int
    """Rooms whose agent never listened or whose user got no answer to a turn."""
    v2v: dict[str, float | None]
    job_start: dict[str, float | None]
    """Dispatch → the agent listening, per room (all rooms are dispatched at once)."""
    cpu_percent: dict[str, float]
    """While the turns ran, of 200 % (two cores): machine, worker, users (the load
    generator), livekit-server."""
    job_processes: int
    pss_mb: float
    """The workers' processes together, with this level's rooms live."""


def _cpu(workers: list[WorkerProcess], users: int, server: LiveKitServer) -> tuple[float, ...]:
    """CPU seconds so far: machine, workers (their process trees), users, livekit-server."""
    mine = sum(tree_cpu_seconds(w.process.pid) for w in workers)
    return machine_busy_seconds(), mine, cpu_seconds(users), cpu_seconds(server.process.pid)


async def measure_level(
    server: LiveKitServer,
    workers: list[WorkerProcess],
    arm: Arm,
    rooms: int,
    turns: int,
    log_dir: Path,
) -> Level:
    wavs = [clip(name) for name in CLIPS]
    log = log_dir / f"loadgen-{arm.pipeline}-{arm.executor}-{arm.workers}-{rooms}.log"
    config = CONFIGS[arm.pipeline]
    users = await start_users(
        server, workers[0].agent_name, config, rooms, turns, wavs, log, timeout_s=ANSWER_S
    )
    try:
        marks = _cpu(workers, users.pid, server)
        started = time.monotonic()
        per_room = await users.converse()
        elapsed = time.monotonic() - started
        now = _cpu(workers, users.pid, server)
        cpu = [(b - a) / elapsed * 100 for a, b in zip(marks, now, strict=True)]
        tree = [p for w in workers for p in tree_memory(w.process.pid)]
    finally:
        await users.close()
        for room in users.rooms:  # the agents leave with their rooms before the next level
            await delete_room(server.url, API_KEY, API_SECRET, room)
    ready = [r for r in users.ready_s if r is not None]
    v2v = [v for turns_ in per_room for v in turns_ if v is not None]
    failed = sum(
        r is None or len(t) < turns or None in t
        for r, t in zip(users.ready_s, per_room, strict=True)
    )
    p50 = statistics.median(v2v) if v2v else float("nan")
    print(f"  {arm.label} {rooms:2d} rooms: v2v p50 {p50:.3f} s")
    level = Level(
        pipeline=arm.pipeline,
        executor=arm.executor,
        workers=arm.workers,
        rooms=rooms,
        turns=turns,
        failed_rooms=failed,
        v2v=percentiles(v2v),
        job_start=percentiles(ready),
        cpu_percent=dict(zip(("machine", "worker", "users", "livekit-server"), cpu, strict=True)),
        job_processes=len(tree) - len(workers),
        pss_mb=sum(p.pss_mb for p in tree),
    )
    print(f"  {level.model_dump_json()}")  # a later level may not finish
    return level


async def measure_worker(
    server: LiveKitServer,
    fakes: FakeProviders,
    log_dir: Path,
    arm: Arm,
    levels: list[int],
    turns: int,
) -> list[Level]:
    env = worker_env(server, fakes, PARLEY_JOB_EXECUTOR=arm.executor)
    name = f"parley-bench-load-{arm.pipeline}-{arm.executor}-{arm.workers}"
    workers: list[WorkerProcess] = []
    try:
        for i in range(arm.workers):
            folder = log_dir / f"{name}-{i}"
            folder.mkdir()
            workers.append(start_worker(folder, env, agent_name=name))
        return [await measure_level(server, workers, arm, n, turns, log_dir) for n in levels]
    finally:
        for w in workers:
            w.stop()


async def measure(arms: list[Arm], levels: list[int], turns: int, log_dir: Path) -> list[Level]:
    server = start_livekit_server(log_dir, isolated_ports=True)
    fakes = start_fakes(log_dir)
    try:
        return [
            level
            for arm in arms
            for level in await measure_worker(server, fakes, log_dir, arm, levels, turns)
        ]
    finally:
        fakes.stop()
        server.stop()


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value * 1000:.0f}"


def print_table(levels: list[Level]) -> None:
    print(
        "\npipeline/workers   rooms failed  v2v p50   p95  p95 vs first  start p95  CPU: machine"
        " worker users server  jobs  PSS/room beyond first"
    )
    first: dict[str, Level] = {}
    for lv in levels:
        label = Arm(lv.pipeline, lv.executor, lv.workers).label
        base = first.setdefault(label, lv)
        p95, base95 = lv.v2v["p95"], base.v2v["p95"]
        vs = f"{(p95 / base95 - 1) * 100:+.0f}%" if p95 and base95 and lv is not base else "–"
        extra = (
            f"{(lv.pss_mb - base.pss_mb) / (lv.rooms - base.rooms):.0f} MB"
            if lv.rooms > base.rooms
            else f"({lv.pss_mb:.0f} MB in all)"
        )
        c = lv.cpu_percent
        print(
            f"{label:18s} {lv.rooms:5d} {lv.failed_rooms:6d} {_ms(lv.v2v['p50']):>6s}ms "
            f"{_ms(p95):>5s}ms {vs:>12s} {_ms(lv.job_start['p95']):>8s}ms "
            f"{c['machine']:12.0f}% {c['worker']:5.0f}% {c['users']:4.0f}% "
            f"{c['livekit-server']:5.0f}% {lv.job_processes:5d}  {extra}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, nargs="+", default=[1, 8, 25])
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--executor", nargs="+", default=["process", "thread"],
                        choices=["process", "thread"])  # fmt: skip
    parser.add_argument("--workers", type=int, nargs="+", default=[1])
    parser.add_argument("--pipeline", nargs="+", default=["realtime"],
                        choices=["realtime", "local", "offline"])  # fmt: skip
    parser.add_argument("--json", type=Path, default=ROOT / "artifacts/bench/load.json")
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    arms = [Arm(p, e, n) for p in args.pipeline for e in args.executor for n in args.workers]
    levels = asyncio.run(measure(arms, args.rooms, args.turns, log_dir))
    print_table(levels)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps([lv.model_dump() for lv in levels], indent=2))
    print(f"JSON: {args.json}   logs: {log_dir}")


if __name__ == "__main__":
    main()
