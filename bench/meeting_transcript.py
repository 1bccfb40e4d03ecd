"""Transcript delay and CPU of the meeting assistant, through the real server.

    scripts/bench meeting_transcript [--speakers 2 5 10] [--lines 10]

For each N: a meeting room with N participants and the worker's offline default (Whisper on
this machine's CPU, one STT stream per participant). The participants say real recordings
in turns, ``--lines`` in all; a listener times speech end → the line on
``parley.meeting.transcript``. CPU per speaker is the job process's CPU time over the
meeting, and over 5 s while every microphone sends silence,
divided by N. Prints p50/p95 per N and writes JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from pydantic import BaseModel

from agent.protocol import MEETING_TRANSCRIPT
from stack.livekit_server import LiveKitServer, start_livekit_server
from stack.memory import cpu_seconds
from stack.participant import wait_for
from stack.process import ROOT
from stack.recordings import CLIPS, clip
from stack.rooms import room_with
from stack.worker import WorkerProcess, start_worker, worker_env

from .offline_v2v import percentiles

SILENT_S = 5.0
"""How long the idle cost (everyone's microphone sending silence) is measured."""


class Level(BaseModel):
    speakers: int
    lines: int
    delay_s: dict[str, float]
    """Speech end → line received by a listener: p50, p90, p95, mean."""
    idle_cpu_per_speaker: float
    """CPU cores used per participant while everyone is silent."""
    cpu_per_speaker: float
    """CPU cores used per participant over the meeting (speech in turns)."""


async def measure_level(
    server: LiveKitServer, worker: WorkerProcess, speakers: int, lines: int
) -> Level:
    people: dict[str, dict[str, str]] = {f"p{i}": {} for i in range(speakers)}
    async with room_with(
        server,
        worker.agent_name,
        people,
        dispatch_metadata={"mode": "meeting"},
        prefix="bench",
        listeners=(),  # in a real meeting each decodes the others elsewhere, not here
    ) as room:
        names = list(room)
        listener = room[names[0]]
        received = listener.watch(MEETING_TRANSCRIPT)
        await listener.wait_for_agent_state("listening", timeout=120)
        for p in room.values():  # every microphone open, as in a real meeting
            await p.open_microphone()
        await asyncio.sleep(2)  # the agent subscribes to each new track
        pid = worker.job_pid(listener.room.name or "")
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        await asyncio.sleep(SILENT_S)
        idle = (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0) / speakers
        delays: list[float] = []
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        for i in range(lines):
            who = room[names[i % speakers]]
            identity = names[i % speakers]
            before = len(received)
            await who.speak(clip(CLIPS[i % len(CLIPS)]))
            assert who.speech_end is not None

            def theirs(before: int = before, identity: str = identity) -> list[float]:
                return [
                    t.received
                    for t in received[before:]
                    if json.loads(t.text)["speaker"] == identity
                ]

            try:
                await wait_for(theirs, "a line", timeout=30)
                delays.append(theirs()[0] - who.speech_end)
                shown = f"{delays[-1]:.2f} s"
            except TimeoutError:
                shown = "no line within 30 s"
            print(f"  N={speakers:2d} line {i + 1:2d}: {shown}")
        busy = (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0) / speakers
    return Level(
        speakers=speakers,
        lines=len(delays),
        delay_s=percentiles(delays),
        idle_cpu_per_speaker=idle,
        cpu_per_speaker=busy,
    )


async def measure(levels: list[int], lines: int, log_dir: Path) -> list[Level]:
    server = start_livekit_server(log_dir, isolated_ports=True)
    # No provider key: the worker's default is the offline cascade.
    worker = start_worker(
        log_dir, worker_env(server, PARLEY_IDLE_PROCESSES="1"), agent_name="parley-bench-meet"
    )
    try:
        return [await measure_level(server, worker, n, lines) for n in levels]
    finally:
        worker.stop()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speakers", type=int, nargs="+", default=[2, 5, 10])
    parser.add_argument("--lines", type=int, default=10)
    parser.add_argument("--json", type=Path, default=ROOT / "artifacts/bench/meeting.json")
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    levels = asyncio.run(measure(args.speakers, args.lines, log_dir))
    print(f"\n{'speakers':>8s} {'lines':>5s} {'p50':>6s} {'p95':>6s}  {'CPU/speaker':>11s}  idle")
    for lv in levels:
        d = lv.delay_s
        print(
            f"{lv.speakers:8d} {lv.lines:5d} {d['p50']:6.2f} {d['p95']:6.2f}  "
            f"{lv.cpu_per_speaker:10.0%}  {lv.idle_cpu_per_speaker:5.0%}"
        )
    print("(delay: speech end → transcript line at a listener, s; CPU in cores per speaker)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps([lv.model_dump() for lv in levels], indent=2))
    print(f"JSON: {args.json}   logs: {log_dir}")


if __name__ == "__main__":
    main()
