"""Voice-to-voice latency of Parley beside a bare livekit-agents agent, through the real server.

    scripts/bench latency [--turns 10] [--ttfb-ms 0 500]

Starts livekit-server, the fake providers, Parley's worker and a bare livekit-agents worker
(``bench.bare_agent``) side by side. For each provider time-to-first-byte (the OpenAI
Realtime fake waits that long before its first audio), three rooms on OpenAI Realtime take
``--turns`` turns each, alternating: Parley with the provider's turn detection (``parley``),
Parley ending turns itself (``local``: ``turn_taking.detection: local``, the
``conversation`` preset) and the bare agent. The client measures voice to voice: the end of
its published speech → the first non-silent agent audio frame it receives. The rest is
v2v − provider TTFB − the end-of-turn decision: the fake's turn-detection silence (which it
records) for the provider's detection; for the local one, the worker's end of speech → its
first audio frame (its ``parley.turn`` report's ``e2e_latency``: the local decision and the
model's wait, which the early answer overlaps). Prints p50/p95 for
each agent and the ratios to the bare agent; writes JSON. Targets (issue 20): local v2v p50
≤ 800 ms and ≤ 0.8 × the bare agent's with 500 ms TTFB; the rest p50 ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from stack.fakes import FakeProviders, start_fakes
from stack.livekit_server import LiveKitServer, start_livekit_server
from stack.participant import Participant
from stack.process import ROOT
from stack.recordings import CLIPS, clip
from stack.rooms import converse, joined_room
from stack.worker import start_worker, worker_env

from .offline_v2v import percentiles

REALTIME: dict[str, Any] = {"pipeline": {"kind": "realtime", "provider": "openai"}}
LOCAL: dict[str, Any] = REALTIME | {"turn_taking": {"preset": "conversation", "detection": "local"}}
ROOMS: dict[str, dict[str, Any] | None] = {"parley": REALTIME, "local": LOCAL, "bare": None}
"""Agent → its room config (None: the bare agent, which reads none and reports nothing)."""


class AgentLatency(BaseModel):
    v2v_s: list[float]
    rest_s: list[float]
    """v2v − provider TTFB − the end-of-turn decision, per turn."""
    v2v: dict[str, float | None]
    rest: dict[str, float | None]


class Level(BaseModel):
    ttfb_ms: int
    eot_ms: int
    """The provider's end-of-turn silence."""
    agents: dict[str, AgentLatency]
    ratio_p50: dict[str, float]
    """Each Parley room's v2v p50 over the bare agent's."""


def _silence_ms(fakes: FakeProviders) -> int:
    stops = [e for e in fakes.received() if e["kind"] == "realtime.speech_stopped"]
    return int(stops[-1]["silence_ms"]) if stops else 0


def _latency(v2v: list[float], decided: list[float]) -> AgentLatency:
    rest = [v - d for v, d in zip(v2v, decided, strict=True)]
    return AgentLatency(v2v_s=v2v, rest_s=rest, v2v=percentiles(v2v), rest=percentiles(rest))


async def measure_level(
    server: LiveKitServer, fakes: FakeProviders, names: dict[str, str], ttfb_ms: int, turns: int
) -> Level:
    fakes.configure(ttfb_ms=ttfb_ms)
    v2v: dict[str, list[float]] = {who: [] for who in ROOMS}
    local_decided: list[float] = []
    async with AsyncExitStack() as rooms:
        users: dict[str, Participant] = {}
        for who, config in ROOMS.items():
            users[who] = await rooms.enter_async_context(
                joined_room(server, names[who], dispatch_metadata=config or "", prefix=f"lat-{who}")
            )
        for i in range(turns):
            for who, user in users.items():  # alternate, so all see the same machine load
                reports = ROOMS[who] is not None
                exchange = await converse(user, clip(CLIPS[i % len(CLIPS)]), reports=reports)
                v2v[who].append(exchange.v2v_s)
                if who == "local":
                    # livekit-agents gives a realtime turn no end_of_turn_delay: the worker's
                    # end of speech → its first audio frame, the model's wait included
                    local_decided.append(exchange.timing["e2e_latency"])
                print(f"  ttfb {ttfb_ms:3d} ms turn {i + 1:2d} {who:6s} v2v {exchange.v2v_s:.3f} s")
    eot_ms = _silence_ms(fakes)
    provider_s = (ttfb_ms + eot_ms) / 1000
    agents = {
        who: _latency(
            times,
            local_decided if who == "local" else [provider_s] * turns,
        )
        for who, times in v2v.items()
    }
    bare_p50 = statistics.median(v2v["bare"])
    return Level(
        ttfb_ms=ttfb_ms,
        eot_ms=eot_ms,
        agents=agents,
        ratio_p50={who: statistics.median(v2v[who]) / bare_p50 for who in ("parley", "local")},
    )


async def measure(ttfbs: list[int], turns: int, log_dir: Path) -> list[Level]:
    server = start_livekit_server(log_dir, isolated_ports=True)
    fakes = start_fakes(log_dir)
    env = worker_env(server, fakes, PARLEY_IDLE_PROCESSES="2")
    parley = start_worker(log_dir, env, agent_name="parley-bench-lat")
    bare = start_worker(log_dir, env, agent_name="bare-bench-lat", module="bench.bare_agent")
    names = {who: (bare if config is None else parley).agent_name for who, config in ROOMS.items()}
    try:
        return [await measure_level(server, fakes, names, t, turns) for t in ttfbs]
    finally:
        parley.stop()
        bare.stop()
        fakes.stop()
        server.stop()


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--ttfb-ms", type=int, nargs="+", default=[0, 500])
    parser.add_argument("--json", type=Path, default=ROOT / "artifacts/bench/latency.json")
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    levels = asyncio.run(measure(args.ttfb_ms, args.turns, log_dir))
    print(f"\n{'ttfb':>5s} {'eot':>4s} {'agent':6s} {'v2v p50':>8s} {'p95':>6s} "
          f"{'rest p50':>9s} {'p95':>6s}  (ms)")  # fmt: skip
    for lv in levels:
        for who, lat in lv.agents.items():
            v2v, rest = lat.v2v, lat.rest
            print(
                f"{lv.ttfb_ms:5d} {lv.eot_ms:4d} {who:6s} {_ms(v2v['p50']):>8s} "
                f"{_ms(v2v['p95']):>6s} {_ms(rest['p50']):>9s} {_ms(rest['p95']):>6s}"
            )
        ratios = ", ".join(f"{who} {r:.3f}" for who, r in lv.ratio_p50.items())
        print(f"      v2v p50 over the bare agent's: {ratios}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps([lv.model_dump() for lv in levels], indent=2))
    print(f"JSON: {args.json}   logs: {log_dir}")


if __name__ == "__main__":
    main()
