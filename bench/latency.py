"""Voice-to-voice latency of Parley beside a bare livekit-agents agent, through the real server.

    scripts/bench latency [--turns 10] [--ttfb-ms 0 500]

Starts livekit-server, the fake providers, Parley's worker and a bare livekit-agents worker
(``bench.bare_agent``) side by side. For each provider time-to-first-byte (the OpenAI
Realtime fake waits that long before its first audio), a Parley room and a bare room, both on
OpenAI Realtime, each take ``--turns`` turns, alternating. The client measures voice to voice:
the end of its published speech → the first non-silent agent audio frame it receives.
Overhead = v2v − provider TTFB − the provider's end-of-turn delay (the fake's turn-detection
silence, which it records). Prints p50/p95 for both agents and their ratio; writes JSON.
Targets: Parley's overhead p50 ≤ 60 ms and p95 ≤ 120 ms; ratio ≤ 1.05; v2v p50 ≤ 800 ms
with 500 ms TTFB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path

from pydantic import BaseModel

from stack.fakes import FakeProviders, start_fakes
from stack.livekit_server import LiveKitServer, start_livekit_server
from stack.participant import Participant
from stack.process import ROOT
from stack.recordings import CLIPS, clip
from stack.rooms import converse, joined_room
from stack.worker import start_worker, worker_env

from .offline_v2v import percentiles

REALTIME = {"pipeline": {"kind": "realtime", "provider": "openai"}}


class AgentLatency(BaseModel):
    v2v_s: list[float]
    overhead_s: list[float]
    v2v: dict[str, float]
    overhead: dict[str, float]


class Level(BaseModel):
    ttfb_ms: int
    eot_ms: int
    parley: AgentLatency
    bare: AgentLatency
    ratio_p50: float
    """Parley's v2v p50 over the bare agent's."""


def _silence_ms(fakes: FakeProviders) -> int:
    stops = [e for e in fakes.received() if e["kind"] == "realtime.speech_stopped"]
    return int(stops[-1]["silence_ms"]) if stops else 0


def _latency(v2v: list[float], provider_s: float) -> AgentLatency:
    overhead = [v - provider_s for v in v2v]
    return AgentLatency(
        v2v_s=v2v, overhead_s=overhead, v2v=percentiles(v2v), overhead=percentiles(overhead)
    )


async def measure_level(
    server: LiveKitServer, fakes: FakeProviders, names: dict[str, str], ttfb_ms: int, turns: int
) -> Level:
    fakes.configure(ttfb_ms=ttfb_ms)
    v2v: dict[str, list[float]] = {"parley": [], "bare": []}
    async with AsyncExitStack() as rooms:
        users: dict[str, Participant] = {}
        for who, agent_name in names.items():
            meta = REALTIME if who == "parley" else ""
            users[who] = await rooms.enter_async_context(
                joined_room(server, agent_name, dispatch_metadata=meta, prefix=f"lat-{who}")
            )
        for i in range(turns):
            for who, user in users.items():  # alternate, so both see the same machine load
                exchange = await converse(user, clip(CLIPS[i % len(CLIPS)]), reports=False)
                v2v[who].append(exchange.v2v_s)
                print(f"  ttfb {ttfb_ms:3d} ms turn {i + 1:2d} {who:6s} v2v {exchange.v2v_s:.3f} s")
    eot_ms = _silence_ms(fakes)
    provider_s = (ttfb_ms + eot_ms) / 1000
    parley, bare = _latency(v2v["parley"], provider_s), _latency(v2v["bare"], provider_s)
    return Level(
        ttfb_ms=ttfb_ms,
        eot_ms=eot_ms,
        parley=parley,
        bare=bare,
        ratio_p50=parley.v2v["p50"] / bare.v2v["p50"],
    )


async def measure(ttfbs: list[int], turns: int, log_dir: Path) -> list[Level]:
    server = start_livekit_server(log_dir, isolated_ports=True)
    fakes = start_fakes(log_dir)
    env = worker_env(server, fakes, PARLEY_IDLE_PROCESSES="1")
    parley = start_worker(log_dir, env, agent_name="parley-bench-lat")
    bare = start_worker(log_dir, env, agent_name="bare-bench-lat", module="bench.bare_agent")
    names = {"parley": parley.agent_name, "bare": bare.agent_name}
    try:
        return [await measure_level(server, fakes, names, t, turns) for t in ttfbs]
    finally:
        parley.stop()
        bare.stop()
        fakes.stop()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--ttfb-ms", type=int, nargs="+", default=[0, 500])
    parser.add_argument("--json", type=Path, default=ROOT / "artifacts/bench/latency.json")
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    levels = asyncio.run(measure(args.ttfb_ms, args.turns, log_dir))
    print(f"\n{'ttfb':>5s} {'eot':>4s} {'agent':6s} {'v2v p50':>8s} {'p95':>6s} "
          f"{'overhead p50':>12s} {'p95':>6s}  (ms)")  # fmt: skip
    for lv in levels:
        for who, lat in (("parley", lv.parley), ("bare", lv.bare)):
            print(
                f"{lv.ttfb_ms:5d} {lv.eot_ms:4d} {who:6s} {lat.v2v['p50'] * 1000:8.0f} "
                f"{lat.v2v['p95'] * 1000:6.0f} {lat.overhead['p50'] * 1000:12.0f} "
                f"{lat.overhead['p95'] * 1000:6.0f}"
            )
        print(f"      ratio Parley / bare (v2v p50): {lv.ratio_p50:.3f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps([lv.model_dump() for lv in levels], indent=2))
    print(f"JSON: {args.json}   logs: {log_dir}")


if __name__ == "__main__":
    main()
