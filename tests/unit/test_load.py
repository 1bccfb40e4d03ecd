"""The load a worker reports (its own CPU and its rooms), and which rooms count as orphaned
and are dispatched again."""

from __future__ import annotations

import subprocess
import sys
import time
from types import SimpleNamespace
from typing import Any, cast

import pytest
from livekit import api
from livekit.agents import AgentServer
from livekit.agents.types import ATTRIBUTE_AGENT_NAME
from livekit.protocol.models import ParticipantInfo

from agent.load import LOAD, WorkerLoad
from agent.rescue import START_GRACE_S, Rescuer, _orphaned
from agent.settings import WorkerSettings


def server(rooms: int, draining: bool = False) -> AgentServer:
    return cast(AgentServer, SimpleNamespace(active_jobs=[object()] * rooms, draining=draining))


def test_rooms_count_against_the_cap() -> None:
    load = WorkerLoad(max_rooms=10)
    assert load(server(0)) < 0.5  # this process is idle
    assert load(server(5)) >= 0.5
    assert load(server(10)) == 1.0
    assert LOAD._value.get() == 1.0  # what /metrics shows
    assert WorkerLoad(max_rooms=None).rooms_share(50) == 0.0


def test_cpu_of_a_busy_child_process_counts() -> None:
    """A job process spinning one core shows in the worker's load: at least one core's worth
    of the machine's cores, which the machine-wide default cannot tell apart per worker."""
    load = WorkerLoad(max_rooms=None)
    idle = load.cpu_share()
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        deadline = time.monotonic() + 3.0
        busy = 0.0
        while time.monotonic() < deadline:
            time.sleep(0.5)
            busy = load.cpu_share()
    finally:
        spin.kill()
        spin.wait()
    cores = load._cores
    assert busy > max(idle, 0.6 / cores), (idle, busy)


def test_max_rooms_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PARLEY_MAX_ROOMS", raising=False)
    assert WorkerSettings.from_env().max_rooms is None
    monkeypatch.setenv("PARLEY_MAX_ROOMS", "12")
    assert WorkerSettings.from_env().max_rooms == 12
    monkeypatch.setenv("PARLEY_MAX_ROOMS", "0")
    with pytest.raises(ValueError, match="max_rooms"):
        WorkerSettings.from_env()


def person(kind: Any = ParticipantInfo.Kind.STANDARD, agent: str = "") -> ParticipantInfo:
    attributes = {ATTRIBUTE_AGENT_NAME: agent} if agent else {}
    return ParticipantInfo(identity="x", kind=kind, attributes=attributes)


def test_a_room_is_orphaned_when_people_stay_and_its_agent_is_gone() -> None:
    agent = person(ParticipantInfo.Kind.AGENT, "parley")
    other_agent = person(ParticipantInfo.Kind.AGENT, "someone-else")
    assert _orphaned([person()], "parley")
    assert _orphaned([person(ParticipantInfo.Kind.SIP), other_agent], "parley")
    assert not _orphaned([person(), agent], "parley")
    assert not _orphaned([], "parley")
    assert not _orphaned([other_agent, person(ParticipantInfo.Kind.EGRESS)], "parley")


class Server:
    """livekit-server's room and dispatch APIs as the rescuer uses them: one room, one user,
    one dispatch whose job was handed out ``started_s_ago``; a new dispatch's job is handed
    out at once."""

    def __init__(self, started_s_ago: float) -> None:
        self.dispatches = [self._dispatch(started_s_ago, "")]
        self.people = [person()]
        self.created: list[api.CreateAgentDispatchRequest] = []
        self.room = SimpleNamespace(list_rooms=self._rooms, list_participants=self._participants)
        self.agent_dispatch = SimpleNamespace(
            list_dispatch=self._dispatches,
            delete_dispatch=self._delete,
            create_dispatch=self._create,
        )

    async def _rooms(self, _: object) -> api.ListRoomsResponse:
        room = api.Room(name="r", sid="RM_1", num_participants=len(self.people))
        return api.ListRoomsResponse(rooms=[room])

    async def _participants(self, _: object) -> api.ListParticipantsResponse:
        return api.ListParticipantsResponse(participants=self.people)

    def _dispatch(self, started_s_ago: float, metadata: str) -> api.AgentDispatch:
        started = int((time.time() - started_s_ago) * 1e9)
        job = api.Job(state=api.JobState(started_at=started))
        state = api.AgentDispatchState(jobs=[job])
        return api.AgentDispatch(id=f"AD_{time.monotonic_ns()}", room="r", agent_name="parley",
                                 metadata=metadata, state=state)  # fmt: skip

    async def _dispatches(self, _: str) -> list[api.AgentDispatch]:
        return self.dispatches

    async def _delete(self, dispatch_id: str, _: str) -> None:
        self.dispatches = [d for d in self.dispatches if d.id != dispatch_id]

    async def _create(self, request: api.CreateAgentDispatchRequest) -> None:
        self.created.append(request)
        self.dispatches.append(self._dispatch(0, request.metadata))


async def sweeps(rescuer: Rescuer, lk: Server, n: int = 2) -> None:
    for _ in range(n):
        await rescuer.sweep(cast(api.LiveKitAPI, lk))


async def test_a_job_still_starting_is_not_dispatched_again() -> None:
    """A loaded worker may take longer than the rescue delay to join its agent."""
    lk = Server(started_s_ago=5)
    await sweeps(Rescuer("parley", after_s=0), lk)
    assert lk.created == []


async def test_a_room_whose_agent_left_is_dispatched_again_with_its_metadata() -> None:
    lk = Server(started_s_ago=5)
    lk.dispatches[0].metadata = '{"mode": "meeting"}'
    rescuer = Rescuer("parley", after_s=0)
    lk.people.append(person(ParticipantInfo.Kind.AGENT, "parley"))
    await sweeps(rescuer, lk)
    assert lk.created == []  # its agent is there
    lk.people.pop()
    await sweeps(rescuer, lk, 4)
    # Once: the new dispatch's agent is on its way.
    assert [(c.room, c.metadata) for c in lk.created] == [("r", '{"mode": "meeting"}')]


async def test_a_job_whose_agent_never_came_is_dispatched_again_after_the_grace() -> None:
    lk = Server(started_s_ago=START_GRACE_S + 1)
    await sweeps(Rescuer("parley", after_s=0), lk)
    assert len(lk.created) == 1
