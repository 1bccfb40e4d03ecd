"""Barge-in through the real server: how fast the agent stops when talked over, that the rest
of its reply is dropped, and that a backchannel or a cough does not stop it.

    scripts/bench barge_in [--presets livekit-default conversation telephony] [--rounds 2]

One room per preset (offline Whisper and espeak-ng, the OpenAI fake as a model answering a
12 s reply at once). Each round talks over the reply with every sentence, backchannel and
cough of ``stack.over_talk.OVER``, plus one reply nobody talks over. Prints per preset:
barge-in stop time p50/p90 (our first word → the agent's last sound, at the client), the
longest queued audio heard after the stop, how many backchannels and coughs the agent talked
through (no new reply, audio back within 3 s) and the pause they caused; writes JSON.
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

from agent.config.models import TURN_PRESETS
from stack.fakes import start_fakes
from stack.livekit_server import start_livekit_server
from stack.over_talk import OVER, REPLY, OverKind, OverTalk, room_config, talk_over
from stack.process import ROOT
from stack.rooms import joined_room
from stack.worker import start_worker, worker_env

TARGET_STOP_P50_S = 0.25


class PresetResult(BaseModel):
    preset: str
    trials: list[OverTalk]
    summary: dict[str, float | None]


def summarize(trials: list[OverTalk]) -> dict[str, float | None]:
    def of(kind: OverKind) -> list[OverTalk]:
        return [t for t in trials if t.kind == kind]

    barge = of("barge-in")
    stops = [t.stopped_after_s for t in barge if t.stopped_after_s is not None]
    tolerated = [t for t in of("backchannel") + of("cough") if t.new_replies == 0 and t.resumed]
    others = of("backchannel") + of("cough")
    return {
        "barge_in_stop_p50_s": statistics.median(stops) if stops else None,
        "barge_in_stop_p90_s": percentile(stops, 0.9),
        "barge_in_not_stopped": float(len(barge) - len(stops)),
        "barge_in_answered_share": sum(t.new_replies == 1 for t in barge) / max(1, len(barge)),
        "queued_audio_heard_max_s": max((t.played_while_talking_s for t in barge), default=0.0),
        "backchannel_talked_through_share": len(tolerated) / max(1, len(others)),
        "backchannel_pause_p50_s": statistics.median([t.longest_silence_s for t in tolerated])
        if tolerated
        else None,
        "reply_own_pause_max_s": max((t.longest_silence_s for t in of("none")), default=None),
    }


async def measure(presets: list[str], rounds: int, log_dir: Path) -> list[PresetResult]:
    server = start_livekit_server(log_dir, isolated_ports=True)
    fakes = start_fakes(log_dir)
    fakes.configure(reply_text=REPLY)
    worker = start_worker(
        log_dir, worker_env(server, fakes, PARLEY_IDLE_PROCESSES="1"), agent_name="parley-bench"
    )
    results = []
    try:
        for preset in presets:
            trials = []
            async with joined_room(
                server, worker.agent_name, dispatch_metadata=room_config(preset), prefix="barge"
            ) as user:
                for _ in range(rounds):
                    for kind, said_list in OVER.items():
                        for said in said_list:
                            t = await talk_over(user, fakes, kind, said)
                            stop = f"{t.stopped_after_s:.3f}" if t.stopped_after_s else "-"
                            print(
                                f"{preset:16s} {kind:11s} {said:28s} stop={stop:>6s} s "
                                f"silence={t.longest_silence_s:.2f} s "
                                f"queued={t.played_while_talking_s:.2f} s "
                                f"resumed={t.resumed} new_replies={t.new_replies}",
                                flush=True,
                            )
                            trials.append(t)
            results.append(PresetResult(preset=preset, trials=trials, summary=summarize(trials)))
    finally:
        worker.stop()
        fakes.stop()
        server.stop()
    return results


def report(results: list[PresetResult]) -> None:
    for r in results:
        print(f"\n{r.preset}")
        for key, value in r.summary.items():
            print(f"  {key:34s} {'-' if value is None else f'{value:.3f}'}")
        p50 = r.summary["barge_in_stop_p50_s"]
        verdict = "meets" if p50 is not None and p50 <= TARGET_STOP_P50_S else "MISSES"
        print(f"  barge-in stop p50 {verdict} the {TARGET_STOP_P50_S} s target")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--presets",
        nargs="+",
        choices=TURN_PRESETS,
        default=["livekit-default", "conversation", "telephony"],
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", type=Path, default=ROOT / "artifacts/bench/barge_in.json")
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    results = asyncio.run(measure(args.presets, args.rounds, log_dir))
    report(results)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps([r.model_dump() for r in results], indent=2))
    print(f"JSON: {args.json}   logs: {log_dir}")


if __name__ == "__main__":
    main()
