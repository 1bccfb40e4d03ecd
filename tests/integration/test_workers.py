"""Three workers on one livekit-server: LiveKit's dispatcher spreads rooms by the load each
reports; a worker killed with SIGKILL has its meeting re-dispatched (by the surviving
workers' rescue) and resumed from its transcript; a worker sent SIGTERM takes no new room,
finishes its meeting and exits."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import urllib.request
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest

from agent.privacy import pseudonym
from stack.fakes import FakeProviders
from stack.livekit_server import LiveKitServer
from stack.participant import Participant, wait_for
from stack.recordings import clip
from stack.rooms import room_with
from stack.worker import WorkerProcess, start_worker

from .rooms import MEASUREMENTS, worker_env
from .test_meeting import meeting_room, say_and_wait_line, transcript_file

AGENT = "parley-three"
ROOMS = 30
MAX_ROOMS = 11
"""Each worker's cap: three of them hold 33, so 30 rooms leave each within 8..11."""
QUIET = {"mode": "assistant", "pipeline": {"kind": "realtime", "provider": "openai"}}


def quiet_room(server: LiveKitServer) -> AbstractAsyncContextManager[dict[str, Participant]]:
    return room_with(
        server, AGENT, {"user": {}}, dispatch_metadata=QUIET, prefix="quiet", listeners=()
    )


def active_jobs(worker: WorkerProcess) -> int:
    """What the worker's health port says it serves (livekit-agents' ``/worker``)."""
    url = f"http://127.0.0.1:{worker.http_port}/worker"
    with urllib.request.urlopen(url, timeout=5) as resp:
        return int(json.loads(resp.read()).get("active_jobs", 0))


def host(workers: list[WorkerProcess], room: str) -> WorkerProcess:
    """The worker whose log names the room (by its pseudonym) last, alive."""
    mark = f'"room": "{pseudonym(room)}"'
    alive = [w for w in workers if w.process.proc.poll() is None]
    (found,) = [w for w in alive if mark in w.process.log_text()]
    return found


@asynccontextmanager
async def three_workers(
    log_dir: Path, server: LiveKitServer, fakes: FakeProviders
) -> AsyncIterator[list[WorkerProcess]]:
    # One data directory for all three: a rescued meeting reads the transcript another wrote.
    env = worker_env(
        server,
        fakes,
        PARLEY_JOB_EXECUTOR="thread",
        PARLEY_MAX_ROOMS=str(MAX_ROOMS),
        PARLEY_LOAD_THRESHOLD="1",
        PARLEY_DRAIN_TIMEOUT_S="120",
    )
    workers: list[WorkerProcess] = []
    try:
        for i in range(3):
            folder = log_dir / f"three-{i}"
            folder.mkdir(exist_ok=True)
            workers.append(await asyncio.to_thread(start_worker, folder, env, agent_name=AGENT))
        yield workers
    finally:
        for w in workers:
            w.stop()


@pytest.mark.timeout(600)
async def test_three_workers_spread_rescue_and_drain(
    log_dir: Path, livekit_server: LiveKitServer, fakes: FakeProviders, tmp_path: Path
) -> None:
    folder = tmp_path.name
    two: dict[str, dict[str, str]] = {"alice": {}, "bob": {}}
    async with (
        three_workers(log_dir, livekit_server, fakes) as workers,
        meeting_room(livekit_server, workers[0], folder, two, [200], "three") as (hook, people),
    ):
        meeting = people["alice"].room.name or ""
        # 29 quiet realtime rooms beside the meeting, opened one after another. Their users
        # hear nothing: 29 more agent tracks decoded here swamp the test's event loop.
        async with AsyncExitStack() as quiet:
            users = [
                (await quiet.enter_async_context(quiet_room(livekit_server)))["user"]
                for _ in range(ROOMS - 1)
            ]
            await asyncio.gather(*(u.wait_for_agent_state("listening", 120) for u in users))
            await wait_for(
                lambda: sum(map(active_jobs, workers)) == ROOMS, "every room counted", 15
            )
            spread = [active_jobs(w) for w in workers]
            MEASUREMENTS.append(f"{ROOMS} rooms on 3 workers (cap {MAX_ROOMS}): {spread}")
            assert all(abs(n - ROOMS / 3) <= 2 for n in spread), spread
        await say_and_wait_line(people, "alice", clip("conf-onlyperson"))

        # SIGKILL: no drain, no goodbye; the server notices the agent gone, and the surviving
        # workers' rescue dispatches the meeting again.
        killed = host(workers, meeting)
        os.kill(killed.process.pid, signal.SIGKILL)
        sent = time.monotonic()
        await wait_for(lambda: people["alice"].agent() is None, "the killed agent to go", 60)
        gone = time.monotonic() - sent
        await people["alice"].wait_for_agent_state("listening", timeout=60)
        back = time.monotonic() - sent
        MEASUREMENTS.append(
            f"worker SIGKILL: agent gone from the room after {gone:.1f} s, "
            f"back (re-dispatched by another worker) after {back:.1f} s"
        )
        await say_and_wait_line(people, "bob", clip("vm-nobodyavail"))

        # SIGTERM to the worker now holding the meeting: a new room goes to the other one,
        # the meeting goes on, and its worker exits once the meeting ends.
        draining = host(workers, meeting)
        (other,) = [w for w in workers if w not in (killed, draining)]
        os.kill(draining.process.pid, signal.SIGTERM)
        await wait_for(lambda: "draining worker" in draining.process.log_text(), "a drain")
        async with quiet_room(livekit_server) as after_drain:
            late = after_drain["user"]
            await late.wait_for_agent_state("listening", 60)
            assert host([draining, other], late.room.name or "") is other
        await say_and_wait_line(people, "alice", clip("tt-weasels"))
        for p in people.values():
            await p.leave()
        await wait_for(lambda: any(b["final"] for b in hook.bodies), "final notes at the webhook")
        rc = await asyncio.to_thread(draining.process.proc.wait, 60)
        assert rc == 0, rc

    final = next(b for b in hook.bodies if b["final"])
    assert final["lines"] == 3, final
    on_disk = await transcript_file(workers[0], folder, meeting)
    assert [(x["seq"], x["speaker"]) for x in on_disk] == [(1, "alice"), (2, "bob"), (3, "alice")]
