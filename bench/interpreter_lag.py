"""Lag of the live interpreter, through the real server, as a listener hears it.

    scripts/bench interpreter_lag [--utterances 10] [--pipeline offline|openai|google]

Starts livekit-server and a worker, opens an interpreter room with an English speaker and a
Spanish listener. ``offline`` (default): a worker with no keys and the offline cascade
(Whisper → Apertium → espeak-ng). ``openai`` / ``google``: the realtime speech-to-speech
backend against the local fake providers, which answer at once (zero model time), so the lag
measured is what Parley and the provider's turn detection add.
The speaker says real recordings one after the other; the listener times, on its
`interpretation-es` track, speech start → translated audio start and speech end → translated
audio end. Prints per utterance and p50/p95, the agent's own summary, and writes JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agent.config.defaults import OFFLINE_CASCADE
from stack.fakes import start_fakes
from stack.livekit_server import start_livekit_server
from stack.participant import Participant
from stack.process import ROOT
from stack.recordings import CLIPS, clip
from stack.rooms import room_with
from stack.worker import start_worker, worker_env

from .offline_v2v import percentiles

TRACK = "interpretation-es"
PIPELINES: dict[str, dict[str, Any]] = {
    "offline": OFFLINE_CASCADE,
    "openai": {"kind": "realtime", "provider": "openai"},
    "google": {"kind": "realtime", "provider": "google"},
}
QUIET_S = 2.5
"""Silence on the track that ends an utterance's translation."""


class Utterance(BaseModel):
    clip: str
    start_lag_s: float
    end_lag_s: float


class Result(BaseModel):
    utterances: list[Utterance]
    summary: dict[str, dict[str, float]]
    agent_summary: dict[str, float]


async def translated(
    listener: Participant, after: float, timeout: float = 30.0
) -> tuple[float, float]:
    """First and last sound on the track after ``after``, once it has been quiet a while."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sounds = [t for t in listener.sound_by_track.get(TRACK, []) if t > after]
        if sounds and time.monotonic() - sounds[-1] > QUIET_S:
            return sounds[0], sounds[-1]
        await asyncio.sleep(0.1)
    raise TimeoutError(f"no translation on {TRACK} within {timeout}s")


async def measure(count: int, pipeline: str, log_dir: Path) -> Result:
    server = start_livekit_server(log_dir, isolated_ports=True)
    fakes = start_fakes(log_dir) if pipeline != "offline" else None
    env = worker_env(server, fakes, PARLEY_IDLE_PROCESSES="1")
    worker = start_worker(log_dir, env, agent_name="parley-bench-interp")
    config = {"mode": "interpreter", "pipeline": PIPELINES[pipeline]}
    measured: list[Utterance] = []
    people = {"speaker": {"language": "en"}, "listener": {"language": "es"}}
    try:
        async with room_with(server, worker.agent_name, people, dispatch_metadata=config) as room:
            speaker, listener = room["speaker"], room["listener"]
            await listener.wait_for_agent_track(TRACK)
            for i in range(count):
                name = CLIPS[i % len(CLIPS)]
                await speaker.speak(clip(name))
                assert speaker.speech_start is not None and speaker.speech_end is not None
                first, last = await translated(listener, speaker.speech_start)
                u = Utterance(
                    clip=name,
                    start_lag_s=first - speaker.speech_start,
                    end_lag_s=last - speaker.speech_end,
                )
                measured.append(u)
                lags = f"start lag {u.start_lag_s:5.2f} s   end lag {u.end_lag_s:5.2f} s"
                print(f"{i + 1:2d} {name:16s} {lags}")
            agent = listener.agent()
            raw = agent.attributes.get("parley.interpreter_lag", "{}") if agent else "{}"
    finally:
        worker.stop()
        if fakes:
            fakes.stop()
        server.stop()
    return Result(
        utterances=measured,
        summary={
            "start_lag": percentiles([u.start_lag_s for u in measured]),
            "end_lag": percentiles([u.end_lag_s for u in measured]),
        },
        agent_summary=json.loads(raw),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=10)
    parser.add_argument("--pipeline", choices=sorted(PIPELINES), default="offline")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    result = asyncio.run(measure(args.utterances, args.pipeline, log_dir))
    args.json = args.json or ROOT / f"artifacts/bench/interpreter_lag-{args.pipeline}.json"
    print(f"\n{'lag':10s} {'p50':>7s} {'p90':>7s} {'mean':>7s}  (s, client-observed)")
    for name, stats in result.summary.items():
        print(f"{name:10s} {stats['p50']:7.2f} {stats['p90']:7.2f} {stats['mean']:7.2f}")
    print(f"agent's own summary: {result.agent_summary}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result.model_dump(), indent=2))
    print(f"JSON: {args.json}   logs: {log_dir}")


if __name__ == "__main__":
    main()
