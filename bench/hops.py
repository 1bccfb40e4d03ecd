"""Where voice-to-voice goes, hop by hop: a timestamped trace of each turn, through the real server.

    scripts/bench hops [--turns 6] [--ttfb-ms 0] [--rooms realtime local bare offline]

Starts livekit-server, the fake providers, Parley's worker and a bare livekit-agents worker
(``bench.bare_agent``); four rooms take ``--turns`` turns each, alternating: Parley on OpenAI
Realtime with the provider's turn detection (``realtime``) and with its own (``local``:
``turn_taking.detection: local``, the ``conversation`` preset), the bare agent with the
provider's, and Parley's offline cascade. In each room a second participant (the probe)
subscribes to the user's microphone through the same SFU and SDK the worker uses, so the
uplink splits into the transport and the worker's own input path. Every process runs on this
machine's one clock; the points of a turn:

- the client hands its last voiced frame to WebRTC; the probe receives it;
- realtime: the provider receives it (the fake records the append that carried it), its
  silence timer stops the turn (``local``: the worker's early commit arrives at a short
  silence, and its clear at the end of turn, when the answer is taken over), it sends the
  first audible reply chunk;
- cascade: the worker's end of speech (its VAD), the final transcript, the end of turn;
- the worker pushes the answer's first frame to the room (``parley.turn``'s ``spoke_at``;
  the bare agent reports none, so its last two hops are one);
- the client receives the first audible frame.

``--rooms``: some of them (the cascade's Whisper and model load these two cores, and the
users' audio, paced by this process, then reaches the SFU in bursts: WebRTC's jitter buffers
grow with them). Prints each hop's p50 and p95 and writes JSON with every turn's trace.
Target (issue 20): the transport share (v2v − model TTFB − the end-of-turn decision) p50 ≤
100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import numpy as np
from livekit import rtc
from pydantic import BaseModel

from agent.config.defaults import OFFLINE_CASCADE
from agent.rooms import token
from fakes.audio import VOICE_DBFS, rms_dbfs
from stack.fakes import FakeProviders, start_fakes
from stack.livekit_server import API_KEY, API_SECRET, LiveKitServer, start_livekit_server
from stack.participant import SAMPLE_RATE, Participant
from stack.process import ROOT
from stack.recordings import CLIPS, clip
from stack.rooms import USER, Exchange, converse, joined_room
from stack.worker import start_worker, worker_env

from .latency import LOCAL, REALTIME
from .offline_v2v import percentiles

ROOMS: dict[str, dict[str, Any] | None] = {
    "realtime": REALTIME,
    "local": LOCAL,
    "bare": None,
    "offline": {"pipeline": OFFLINE_CASCADE},
}
"""Room → its config (None: the bare agent's room, which reads none)."""

Hop = tuple[str, str, str]
"""A hop's name, and the points (keys of a turn's trace) it runs from and to."""
UPLINK: list[Hop] = [("client → SFU → subscriber", "client_voiced", "probe_voiced")]
DOWNLINK: list[Hop] = [("room → client ear", "worker_spoke", "client_heard")]
PROVIDER: list[Hop] = [
    *UPLINK,
    ("worker input → provider", "probe_voiced", "provider_voiced"),
    ("provider end of turn", "provider_voiced", "provider_stopped"),
    ("provider first audio", "provider_stopped", "provider_audio"),
]
HOPS: dict[str, list[Hop]] = {
    "realtime": [
        *PROVIDER,
        ("provider → worker → room", "provider_audio", "worker_spoke"),
        *DOWNLINK,
    ],
    "local": [
        *UPLINK,
        ("worker input → provider", "probe_voiced", "provider_voiced"),
        ("→ the early answer's commit", "provider_voiced", "provider_committed"),
        ("commit → provider first audio", "provider_committed", "provider_audio"),
        ("→ the worker's end of turn", "provider_voiced", "provider_cleared"),
        ("answer taken over → room", "provider_released", "worker_spoke"),
        *DOWNLINK,
    ],
    "bare": [*PROVIDER, ("provider → worker → client ear", "provider_audio", "client_heard")],
    "offline": [
        *UPLINK,
        ("worker input → end of speech", "probe_voiced", "worker_speech_end"),
        ("end of speech → transcript", "worker_speech_end", "worker_transcript"),
        ("transcript → end of turn", "worker_transcript", "worker_turn_over"),
        ("end of turn → first audio", "worker_turn_over", "worker_spoke"),
        *DOWNLINK,
    ],
}
DECISION: dict[str, tuple[str, str]] = {
    "realtime": ("provider_voiced", "provider_stopped"),
    "local": ("provider_voiced", "provider_cleared"),
    "bare": ("provider_voiced", "provider_stopped"),
    "offline": ("worker_speech_end", "worker_turn_over"),
}
MODEL: dict[str, tuple[str, str]] = {
    "realtime": ("provider_stopped", "provider_audio"),
    "local": ("provider_cleared", "provider_released"),
    "bare": ("provider_stopped", "provider_audio"),
    "offline": ("worker_turn_over", "worker_spoke"),
}
"""The decision and the model's time to first audio (the provider; the cascade's LLM and TTS)
in each pipeline: the transport share is what v2v spends outside them. The local room's answer
starts early: only what is left of the model's time at the worker's end of turn counts."""
TRANSPORT_P50_S = 0.1


class Probe:
    """A participant that hears the user's microphone as the worker does, to time the SFU."""

    def __init__(self) -> None:
        self.room = rtc.Room()
        self.voiced: list[float] = []
        """Monotonic arrival times of the user's voiced frames."""
        self._streams: list[asyncio.Task[None]] = []

    async def join(self, url: str, jwt: str) -> None:
        self.room.on("track_subscribed", self._on_track)
        await self.room.connect(url, jwt)

    def _on_track(self, track: rtc.Track, _: Any, who: rtc.RemoteParticipant) -> None:
        if track.kind == rtc.TrackKind.KIND_AUDIO and who.identity == USER:
            self._streams.append(asyncio.create_task(self._listen(track)))

    async def _listen(self, track: rtc.Track) -> None:
        async for event in rtc.AudioStream(track, sample_rate=SAMPLE_RATE, num_channels=1):
            if rms_dbfs(np.frombuffer(event.frame.data, np.int16)) > VOICE_DBFS:
                self.voiced.append(time.monotonic())

    def last_voiced(self, before: float) -> float | None:
        return max((t for t in self.voiced if t < before), default=None)

    async def leave(self) -> None:
        for task in self._streams:
            task.cancel()
        await self.room.disconnect()


class Trace(BaseModel):
    clip: str
    v2v_s: float
    points: dict[str, float]
    """Point → seconds after the client's last voiced frame."""
    thrown_away: int = 0
    """Replies the provider cancelled during the turn (the local room's early answers the
    user talked on from)."""


class RoomHops(BaseModel):
    traces: list[Trace]
    hops: dict[str, dict[str, float | None]]
    """Hop → p50/p90/p95/mean, seconds; "v2v" and "transport" (v2v less the model's first
    audio and the end-of-turn decision) too."""


def _wall(monotonic: float) -> float:
    return monotonic - time.monotonic() + time.time()


def _provider_points(events: list[dict[str, Any]]) -> dict[str, float]:
    """The latest turn's, as the OpenAI fake recorded them (turns alternate: one at a time):
    its own end of turn, or the worker's commit. An early answer (a commit before the worker's
    end of turn) is taken over when the worker clears the silence heard since; without one the
    commit is the end of turn."""
    end = next(e for e in reversed(events) if e["kind"] in ENDS)
    audio = next(e for e in events if e["kind"] == "realtime.audio_sent" and e["t"] > end["t"])
    points = {
        "provider_voiced": end["voiced_at"],
        ENDS[end["kind"]]: end["t"],
        "provider_audio": audio["t"],
    }
    if end["kind"] == "realtime.commit":
        clear = next((e for e in events if e["kind"] == "realtime.clear" and e["t"] > end["t"]), end)  # noqa: E501  # fmt: skip
        points["provider_cleared"] = clear["t"]
        points["provider_released"] = max(clear["t"], audio["t"])
    return points


def _cancelled(event: dict[str, Any]) -> bool:
    return event["kind"] == "realtime.turn" and event.get("status") == "cancelled"


ENDS = {"realtime.speech_stopped": "provider_stopped", "realtime.commit": "provider_committed"}
"""The fake's event that ends a user turn → its point in the trace."""


def _worker_points(timing: dict[str, Any]) -> dict[str, float]:
    """From the room's ``parley.turn`` (none: the bare agent's)."""
    if not timing:
        return {}
    points = {"worker_spoke": timing["spoke_at"]}
    if timing.get("e2e_latency") is None:  # the provider ended the turn: its points say it
        return points | {"worker_heard_stop": timing["user_stopped_at"]}
    speech_end = timing["spoke_at"] - timing["e2e_latency"]
    points["worker_speech_end"] = speech_end
    for point, delay in (
        ("worker_transcript", "transcription_delay"),
        ("worker_turn_over", "end_of_turn_delay"),
    ):
        if timing.get(delay) is not None:  # a realtime room has no transcript of its own
            points[point] = speech_end + timing[delay]
    return points


def _points(
    user: Participant, probe: Probe, ex: Exchange, events: list[dict[str, Any]]
) -> dict[str, float]:
    assert user.speech_end is not None
    end = _wall(user.speech_end)
    heard = user.agent_sound_after(user.speech_end)
    assert heard is not None
    wall = {"client_voiced": end, "client_heard": _wall(heard), **_worker_points(ex.timing)}
    if (voiced := probe.last_voiced(user.speech_end + 1.0)) is not None:
        wall["probe_voiced"] = _wall(voiced)
    if events:
        wall |= _provider_points(events)
    return {point: at - end for point, at in wall.items()}


def _summary(pipeline: str, traces: list[Trace]) -> dict[str, dict[str, float | None]]:
    def span(a: str, b: str) -> list[float]:
        return [tr.points[b] - tr.points[a] for tr in traces if a in tr.points and b in tr.points]

    hops = {name: percentiles(span(a, b)) for name, a, b in HOPS[pipeline]}
    hops["v2v"] = percentiles([tr.v2v_s for tr in traces])
    decided, model = span(*DECISION[pipeline]), span(*MODEL[pipeline])
    hops["transport"] = percentiles(
        [tr.v2v_s - d - m for tr, d, m in zip(traces, decided, model, strict=True)]
    )
    return hops


async def _probe(server: LiveKitServer, room: str) -> Probe:
    probe = Probe()
    await probe.join(server.url, token(API_KEY, API_SECRET, room, "probe", {}))
    return probe


async def measure(rooms: list[str], turns: int, ttfb_ms: int, log_dir: Path) -> dict[str, RoomHops]:
    server = start_livekit_server(log_dir, isolated_ports=True)
    fakes: FakeProviders = start_fakes(log_dir)
    fakes.configure(ttfb_ms=ttfb_ms)
    env = worker_env(server, fakes, PARLEY_IDLE_PROCESSES="2")
    parley = start_worker(log_dir, env, agent_name="parley-bench-hops")
    bare = start_worker(log_dir, env, agent_name="bare-bench-hops", module="bench.bare_agent")
    traces: dict[str, list[Trace]] = {pipeline: [] for pipeline in rooms}
    try:
        async with AsyncExitStack() as stack:
            users = {
                pipeline: await stack.enter_async_context(
                    joined_room(
                        server,
                        (parley if config else bare).agent_name,
                        dispatch_metadata=config or "",
                        prefix="hops",
                    )
                )
                for pipeline, config in ((p, ROOMS[p]) for p in rooms)
            }
            probes: dict[str, Probe] = {}
            for pipeline, user in users.items():
                # after the agent took the user as its participant: the probe is never heard
                await user.wait_for_agent_state("listening")
                probes[pipeline] = await _probe(server, user.room.name or "")
                stack.push_async_callback(probes[pipeline].leave)
            for i in range(turns):
                name = CLIPS[i % len(CLIPS)]
                for pipeline, user in users.items():
                    before = len(fakes.received())
                    ex = await converse(user, clip(name), reports=ROOMS[pipeline] is not None)
                    events = [] if pipeline == "offline" else fakes.received()
                    points = _points(user, probes[pipeline], ex, events)
                    cancelled = [e for e in events[before:] if _cancelled(e)]
                    traces[pipeline].append(
                        Trace(clip=name, v2v_s=ex.v2v_s, points=points, thrown_away=len(cancelled))
                    )
                    trace = "  ".join(f"{k}={v * 1000:.0f}" for k, v in points.items())
                    print(f"turn {i + 1:2d} {pipeline:8s} v2v={ex.v2v_s * 1000:5.0f} ms  {trace}")
    finally:
        parley.stop()
        bare.stop()
        fakes.stop()
        server.stop()
    return {p: RoomHops(traces=t, hops=_summary(p, t)) for p, t in traces.items()}


def _ms(seconds: float | None) -> str:
    return f"{'-':>6s}" if seconds is None else f"{seconds * 1000:6.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--rooms", nargs="+", choices=list(ROOMS), default=list(ROOMS))
    parser.add_argument("--ttfb-ms", type=int, default=0, help="the fake model's first audio")
    parser.add_argument("--json", type=Path, default=ROOT / "artifacts/bench/hops.json")
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    rooms = asyncio.run(measure(args.rooms, args.turns, args.ttfb_ms, log_dir))
    for pipeline, result in rooms.items():
        print(f"\n{pipeline}: {'hop':34s} {'p50':>6s} {'p95':>6s}  (ms)")
        for hop, stats in result.hops.items():
            print(f"{'':{len(pipeline) + 2}s}{hop:34s} {_ms(stats['p50'])} {_ms(stats['p95'])}")
        p50 = result.hops["transport"]["p50"] or 0.0
        verdict = "meets" if p50 <= TRANSPORT_P50_S else "MISSES"
        goal = f"{TRANSPORT_P50_S * 1000:.0f} ms"
        print(f"transport p50 {p50 * 1000:.0f} ms {verdict} the {goal} goal")
        if thrown := sum(t.thrown_away for t in result.traces):
            print(f"replies thrown away: {thrown} in {len(result.traces)} turns")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({p: r.model_dump() for p, r in rooms.items()}, indent=2))
    print(f"JSON: {args.json}   logs: {log_dir}")


if __name__ == "__main__":
    main()
