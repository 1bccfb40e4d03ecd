"""The load a worker reports (its own CPU and its rooms), and which rooms count as orphaned."""

from __future__ import annotations

import subprocess
import sys
import time
from types import SimpleNamespace
from typing import Any, cast

import pytest
from livekit.agents import AgentServer
from livekit.agents.types import ATTRIBUTE_AGENT_NAME
from livekit.protocol.models import ParticipantInfo

from agent.load import LOAD, WorkerLoad
from agent.rescue import _orphaned
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
