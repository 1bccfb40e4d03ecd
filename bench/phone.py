"""Phone callers: voice-to-voice over the phone path beside WebRTC, and turn-taking on the
phone line's audio.

    scripts/bench phone [--turns 6] [--loss 0.03] [--jitter-ms 20] [--skip-turns]

1. Voice to voice at the caller, in one run on one worker, turn by turn in rotation: a
   WebRTC participant, a phone caller on a clean G.711 line, and one on a line that loses
   ``--loss`` of its packets with ``--jitter-ms`` of jitter. The phone callers come in
   through the server's SIP API (an inbound trunk and a dispatch rule, ``stack.phone``); the
   pipeline is OpenAI Realtime on the fake, so the numbers are the path's, not a model's.
   A phone caller's v2v includes its line's jitter buffer both ways (60 ms each), as a real
   caller's does.
2. False cut-ins of the ``livekit-default`` and ``telephony`` presets on the turn corpus'
   clean English and Spanish check turns played through the same G.711 chain (8 kHz, μ-law,
   20 ms packets; clean and lossy), with ``python -m agent eval turns``' own scoring.

Writes artifacts/bench/phone.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import numpy as np
from livekit.plugins import silero

from agent.config.models import TurnTaking
from agent.eval.cases import load_cases
from agent.eval.turns import Report, evaluate, print_report
from fakes.audio import resample, write_wav
from stack.fakes import start_fakes
from stack.livekit_server import start_livekit_server
from stack.participant import Participant
from stack.phone import (
    LINE_RATE,
    PACKET,
    Line,
    LineQuality,
    PhoneCaller,
    PhoneService,
    dispatch_rule,
    start_phone_service,
    start_redis,
)
from stack.process import ROOT
from stack.recordings import CLIPS, clip
from stack.rooms import converse, joined_room
from stack.turn_corpus import PAUSES, RATE, TURNS, VOICES, build_case
from stack.worker import start_worker, worker_env

from .offline_v2v import percentiles

REALTIME: dict[str, Any] = {"pipeline": {"kind": "realtime", "provider": "openai"}}
LINE = "+15550100"


async def v2v(
    phones: PhoneService, agent_name: str, turns: int, lossy: LineQuality
) -> dict[str, Any]:
    paths: dict[str, list[float]] = {"webrtc": [], "phone": [], "phone-lossy": []}
    async with AsyncExitStack() as stack:
        people: dict[str, Participant] = {}
        people["webrtc"] = await stack.enter_async_context(
            joined_room(phones.server, agent_name, dispatch_metadata=REALTIME, prefix="phone-b")
        )
        await stack.enter_async_context(dispatch_rule(phones, LINE, agent_name, REALTIME))
        for name, quality in (("phone", LineQuality()), ("phone-lossy", lossy)):
            caller = PhoneCaller(quality, seed=len(people))
            await phones.dial_in(caller, f"+1555123{len(people):04d}", LINE)
            await caller.connected()
            people[name] = caller
        for i in range(turns):
            for name, person in people.items():  # in rotation: the same load for each path
                turn = await converse(person, clip(CLIPS[i % len(CLIPS)]))
                paths[name].append(turn.v2v_s)
                print(f"  turn {i + 1:2d} {name:12s} v2v {turn.v2v_s:.3f} s", flush=True)
    return {name: {"v2v_s": values, **percentiles(values)} for name, values in paths.items()}


def line_cases(out: Path, variants: dict[str, LineQuality]) -> None:
    """The corpus' clean turns, as each line variant delivers them (8 kHz)."""
    out.mkdir(parents=True, exist_ok=True)
    turns = [(voice, turn) for turn in TURNS["check"] for voice in VOICES["check"][:2]]
    for i, (voice, turn) in enumerate(turns):
        audio, rate, labels = build_case("check", voice, turn, PAUSES[i % len(PAUSES)], "clean", i)
        assert rate == RATE
        narrow = resample(audio, RATE, LINE_RATE)
        narrow = np.pad(narrow, (0, -len(narrow) % PACKET))
        for name, quality in variants.items():
            line = Line(quality, seed=i)
            carried = np.concatenate([line.carry(p) for p in narrow.reshape(-1, PACKET)])
            stem = out / f"t{i + 1}-{voice.lang}-{name}"
            stem.with_suffix(".wav").write_bytes(write_wav(carried, LINE_RATE))
            stem.with_suffix(".json").write_text(json.dumps({**labels, "noise": name}))


async def cut_ins(variants: dict[str, LineQuality]) -> Report:
    folder = Path(tempfile.mkdtemp(prefix="parley-phone-turns-"))
    line_cases(folder, variants)
    cases, errors = load_cases(folder)
    presets = await evaluate(
        cases, [TurnTaking(preset="livekit-default"), TurnTaking(preset="telephony")],
        silero.VAD.load(), jobs=2,
    )  # fmt: skip
    return Report(presets=presets, errors=errors)


async def measure(args: argparse.Namespace, log_dir: Path) -> dict[str, Any]:
    lossy = LineQuality(loss=args.loss, jitter_ms=args.jitter_ms)
    redis = start_redis(log_dir)
    server = start_livekit_server(log_dir, isolated_ports=True, redis=redis.address)
    fakes = start_fakes(log_dir)
    phones = start_phone_service(log_dir, server, redis)
    worker = start_worker(
        log_dir, worker_env(server, fakes, PARLEY_IDLE_PROCESSES="2"), agent_name="parley-phone"
    )
    try:
        result: dict[str, Any] = {
            "line": {"lossy": lossy.__dict__},
            "v2v": await v2v(phones, worker.agent_name, args.turns, lossy),
        }
    finally:
        worker.stop()
        phones.stop()
        fakes.stop()
        server.stop()
        redis.stop()
    if not args.skip_turns:
        report = await cut_ins({"g711": LineQuality(), "g711-lossy": lossy})
        print_report(report)
        result["turns"] = report.model_dump()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--loss", type=float, default=0.03)
    parser.add_argument("--jitter-ms", type=float, default=20.0)
    parser.add_argument("--skip-turns", action="store_true", help="only the v2v part")
    parser.add_argument("--json", type=Path, default=ROOT / "artifacts/bench/phone.json")
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    result = asyncio.run(measure(args, log_dir))
    print(f"\n{'path':12s} {'v2v p50':>8s} {'p90':>6s} {'mean':>6s}  (ms)")
    for name, r in result["v2v"].items():
        print(f"{name:12s} {r['p50'] * 1000:8.0f} {r['p90'] * 1000:6.0f} {r['mean'] * 1000:6.0f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(f"JSON: {args.json}   logs: {log_dir}")


if __name__ == "__main__":
    main()
