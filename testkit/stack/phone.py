"""Phone calls without a phone network: the SIP leg as LiveKit's SIP service delivers it.

``livekit-sip`` cannot be installed here (see docs/phone.md), so its two halves are stood in
for, each speaking the real interfaces:

- the control plane, ``testkit/sipbridge`` (Go, livekit/protocol's own types): the server's
  SIP API reaches it over psrpc and Redis exactly as it reaches livekit-sip. It evaluates the
  server's dispatch rules for an inbound call, mints livekit-sip's room token for it, and
  hands ``CreateSIPParticipant`` (dial-out) and ``TransferSIPParticipant`` (REFER) requests to
  the phone below;
- the media leg, ``PhoneCaller``: a room participant of kind SIP with livekit-sip's
  attributes and call status (ringing → active → hangup), audio at 8 kHz through G.711 μ-law
  in 20 ms packets with optional loss and jitter, and keys as the SDK's DTMF packets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import g711
import numpy as np
from livekit import api

from .livekit_server import API_KEY, API_SECRET, LiveKitServer
from .participant import FRAME_MS, Participant, wait_for
from .process import ManagedProcess, free_port, installed, port_open

LINE_RATE = 8000
PACKET = LINE_RATE * FRAME_MS // 1000
"""Samples per RTP packet: 20 ms of G.711, as carriers send it."""
CALL_STATUS = "sip.callStatus"
DTMF_CODES = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}
"""RFC 4733 event codes of the keys."""
KEY_GAP_S = 0.25
"""Between two keys: a person pressing them."""
RING_S = 2.0
"""How long a dialled patient lets the phone ring."""
REFER_BYE_S = 1.0
"""After an accepted REFER, livekit-sip ends the call within this (its referByeTimeout)."""


# --- the line ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineQuality:
    loss: float = 0.0
    """Share of packets the network drops."""
    jitter_ms: float = 0.0
    """Spread of each packet's network delay (normal, standard deviation)."""
    buffer_ms: float = 60.0
    """The receiving jitter buffer: the delay every packet gets, and a packet later than it
    is lost as well."""


class Line:
    """One direction of a phone line: 8 kHz PCM → μ-law packets → the network → PCM, with
    the loss and the delay the quality says. A lost packet plays as silence (G.711 has no
    concealment of its own)."""

    def __init__(self, quality: LineQuality, seed: int) -> None:
        self.quality = quality
        self._rng = np.random.default_rng(seed)
        self.sent = self.lost = 0

    @property
    def delay_s(self) -> float:
        return self.quality.buffer_ms / 1000

    def carry(self, pcm: np.ndarray) -> np.ndarray:
        """One packet's samples (int16 at 8 kHz) as the far end plays them."""
        self.sent += 1
        late = self._rng.normal(0.0, self.quality.jitter_ms) > self.quality.buffer_ms
        if late or self._rng.random() < self.quality.loss:
            self.lost += 1
            return np.zeros_like(pcm)
        coded = g711.encode_ulaw(pcm.astype(np.float32) / 32768)
        return np.asarray(np.round(g711.decode_ulaw(coded) * 32767), dtype=np.int16)


class PhoneCaller(Participant):
    """A caller on a phone: the room participant livekit-sip would be for their call."""

    def __init__(self, quality: LineQuality = LineQuality(), seed: int = 0) -> None:
        super().__init__(rate=LINE_RATE, listen_frame_ms=FRAME_MS)
        self.uplink = Line(quality, seed)
        self.downlink = Line(quality, seed + 1)
        self._delayed: list[np.ndarray] = []
        self.call_id = ""
        self.room_name = ""
        self.hung_up = False

    def said(self, samples: np.ndarray) -> np.ndarray:
        # The jitter buffer's delay: what is said leaves the line that many packets later.
        self._delayed.append(self.uplink.carry(samples))
        if len(self._delayed) <= round(self.uplink.delay_s * 1000 / FRAME_MS):
            return np.zeros_like(samples)
        return self._delayed.pop(0)

    def heard(self, at: float, samples: np.ndarray) -> tuple[float, np.ndarray]:
        return at + self.downlink.delay_s, self.downlink.carry(samples)

    async def answer(self, url: str, token: str, attributes: dict[str, str], status: str) -> None:
        """Joins as livekit-sip does: the token's identity and attributes, then the call's
        other attributes; the call is ``status`` (ringing, or dialing) until answered."""
        await self.join(url, token)
        await self.room.local_participant.set_attributes({**attributes, CALL_STATUS: status})
        await self.open_microphone()

    async def connected(self) -> None:
        """livekit-sip answers an inbound call once it hears someone in the room (the
        agent's audio track is up): the call becomes ``active``."""
        await wait_for(lambda: bool(self.heard_tracks), "an agent's audio track", 60)
        await self.room.local_participant.set_attributes({CALL_STATUS: "active"})

    async def pick_up(self, after_s: float) -> None:
        """A dialled patient answers after ringing ``after_s``: the call becomes ``active``."""
        await asyncio.sleep(after_s)
        await self.room.local_participant.set_attributes({CALL_STATUS: "active"})

    async def press(self, keys: str) -> None:
        """Presses ``keys`` one by one, as DTMF packets from the SIP service."""
        for key in keys:
            await self.room.local_participant.publish_dtmf(code=DTMF_CODES[key], digit=key)
            await asyncio.sleep(KEY_GAP_S)

    async def hang_up(self) -> None:
        """The caller hangs up: livekit-sip sets ``hangup`` and leaves the room."""
        if self.room.isconnected() and not self.hung_up:
            self.hung_up = True
            with contextlib.suppress(Exception):
                await self.room.local_participant.set_attributes({CALL_STATUS: "hangup"})
        await self.leave()

    @property
    def gone(self) -> bool:
        """The room removed us (the agent hung up, or a transfer ended the call)."""
        return not self.room.isconnected()


# --- the SIP service -------------------------------------------------------------------------


@dataclass
class Transfer:
    call_id: str
    to: str


@dataclass
class PhoneService:
    """The bridge the server's SIP API reaches (through Redis), and the calls in flight."""

    server: LiveKitServer
    bridge: ManagedProcess
    bridge_url: str
    transfers: list[Transfer] = field(default_factory=list)
    refuse_transfers: bool = False
    """Answer a REFER with an error (the target did not pick up)."""
    callers: dict[str, PhoneCaller] = field(default_factory=dict)
    """Call ID → the caller's side of the call."""
    dialed: list[dict[str, Any]] = field(default_factory=list)
    """The ``CreateSIPParticipant`` requests that reached the SIP service (dial-outs)."""
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    """Requests being answered (a TaskSet would bind the fixture's loop, not the test's)."""

    def api(self) -> api.LiveKitAPI:
        return api.LiveKitAPI(self.server.url.replace("ws", "http", 1), API_KEY, API_SECRET)

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.bridge_url + path, json=body) as r,
        ):
            text = await r.text()
            if r.status >= 300:
                raise RuntimeError(f"sipbridge {path}: {r.status} {text}")
            return json.loads(text) if text else None

    async def dial_in(
        self, caller: PhoneCaller, from_number: str, to_number: str
    ) -> dict[str, Any]:
        """A call from ``from_number`` to the trunk's ``to_number``: the server's dispatch
        rules pick the room (and its agent), and the caller joins it ringing."""
        dispatched = await self._post(
            "/inbound", {"from": from_number, "to": to_number, "source_ip": "192.0.2.10"}
        )
        if dispatched["result"] != "ACCEPT":
            raise RuntimeError(f"the dispatch rules refused the call: {dispatched['result']}")
        caller.call_id, caller.room_name = dispatched["call_id"], dispatched["room"]
        self.callers[caller.call_id] = caller
        await caller.answer(
            dispatched["ws_url"], dispatched["token"], dispatched["attributes"], "ringing"
        )
        return dict(dispatched)

    async def end(self, caller: PhoneCaller) -> None:
        await caller.hang_up()
        self.callers.pop(caller.call_id, None)
        with contextlib.suppress(Exception):
            await self._post("/hangup", {"call_id": caller.call_id})

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[None]:
        """Answers the server's SIP requests meanwhile; ends the calls still up at the end.
        Scoped, so that no test's event loop leaves a poll behind that would take the next
        test's requests."""
        task = asyncio.create_task(self._serve())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            for caller in list(self.callers.values()):
                await self.end(caller)

    async def _serve(self) -> None:
        async with aiohttp.ClientSession() as http:
            while True:
                async with http.get(self.bridge_url + "/next") as r:
                    if r.status != 200:
                        continue
                    request = await r.json(content_type=None)
                self._spawn(self._handle(request))

    async def _handle(self, request: dict[str, Any]) -> None:
        answer: dict[str, Any] = {"id": request["id"]}
        body = request["request"]
        try:
            if request["method"] == "TransferSIPParticipant":
                self.transfers.append(Transfer(body.get("sipCallId", ""), body["transferTo"]))
                if self.refuse_transfers:
                    answer["error"] = "486 Busy Here"
                else:
                    caller = self.callers.get(request["call_id"])
                    if caller is not None:  # livekit-sip ends the call after the REFER
                        self._spawn(self._end_later(caller, REFER_BYE_S))
            else:  # CreateSIPParticipant: the call is placed, the patient picks up later
                self.dialed.append(body)
                caller = PhoneCaller()
                caller.call_id, caller.room_name = request["call_id"], body["roomName"]
                self.callers[caller.call_id] = caller
                await caller.answer(
                    self.server.url, request["token"], request["attributes"], "dialing"
                )
                self._spawn(caller.pick_up(RING_S))
                answer["identity"] = body.get("participantIdentity", "")
        except Exception as e:  # the server hears the failure, as from livekit-sip
            answer["error"] = f"{type(e).__name__}: {e}"
        await self._post("/reply", answer)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _end_later(self, caller: PhoneCaller, delay: float) -> None:
        await asyncio.sleep(delay)
        await self.end(caller)

    def stop(self) -> None:
        self.bridge.stop()


@dataclass
class Redis:
    process: ManagedProcess
    address: str

    def stop(self) -> None:
        self.process.stop()


def start_redis(log_dir: Path) -> Redis:
    """A Redis of its own, without persistence: a livekit-server's SIP API needs one."""
    port = free_port()
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    process = ManagedProcess("redis", argv, log_dir / "redis.log")
    process.wait_until(lambda: port_open(port), 15, "listening")
    return Redis(process, f"127.0.0.1:{port}")


def start_phone_service(log_dir: Path, server: LiveKitServer, redis: Redis) -> PhoneService:
    """The SIP service's stand-in for ``server`` (started with ``redis``)."""
    port = free_port()
    argv = [
        installed("install-go-tool", "sipbridge"),
        "-redis", redis.address,
        "-http", f"127.0.0.1:{port}",
        "-ws-url", server.url,
        "-key", API_KEY,
        "-secret", API_SECRET,
    ]  # fmt: skip
    bridge = ManagedProcess("sipbridge", argv, log_dir / "sipbridge.log")
    bridge.wait_until(lambda: port_open(port), 30, "listening")
    return PhoneService(server, bridge, f"http://127.0.0.1:{port}")


@contextlib.asynccontextmanager
async def dispatch_rule(
    service: PhoneService, number: str, agent_name: str, room_config: dict[str, Any]
) -> AsyncIterator[str]:
    """An inbound trunk for ``number`` and a dispatch rule that puts each caller in a room of
    their own with the agent dispatched on ``room_config``: what ``lk sip inbound create`` and
    ``lk sip dispatch create`` make on LiveKit Cloud (docs/phone.md has the JSON). The SIP
    service answers meanwhile."""
    async with service.api() as lk:
        trunk = await lk.sip.create_inbound_trunk(
            api.CreateSIPInboundTrunkRequest(
                trunk=api.SIPInboundTrunkInfo(name="intake line", numbers=[number])
            )
        )
        rule = await lk.sip.create_dispatch_rule(
            api.CreateSIPDispatchRuleRequest(
                dispatch_rule=api.SIPDispatchRuleInfo(
                    name="intake",
                    trunk_ids=[trunk.sip_trunk_id],
                    rule=api.SIPDispatchRule(
                        dispatch_rule_individual=api.SIPDispatchRuleIndividual(room_prefix="intake")
                    ),
                    room_config=api.RoomConfiguration(
                        agents=[
                            api.RoomAgentDispatch(
                                agent_name=agent_name, metadata=json.dumps(room_config)
                            )
                        ]
                    ),
                )
            )
        )
        try:
            async with service.serving():
                yield rule.sip_dispatch_rule_id
        finally:
            await lk.sip.delete_dispatch_rule(
                api.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=rule.sip_dispatch_rule_id)
            )
            await lk.sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id=trunk.sip_trunk_id))


@contextlib.asynccontextmanager
async def outbound_trunk(service: PhoneService, number: str) -> AsyncIterator[str]:
    """An outbound trunk calling from ``number`` (``lk sip outbound create``); its id."""
    async with service.api() as lk:
        trunk = await lk.sip.create_outbound_trunk(
            api.CreateSIPOutboundTrunkRequest(
                trunk=api.SIPOutboundTrunkInfo(
                    name="call-backs", address="sip.carrier.invalid", numbers=[number]
                )
            )
        )
        try:
            yield trunk.sip_trunk_id
        finally:
            await lk.sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id=trunk.sip_trunk_id))
