"""Rooms whose Parley agent vanished are dispatched again.

livekit-server (1.13, open source) does not re-dispatch a job whose worker dies: the room keeps
its people and its dispatch, and has no agent (its dispatch state still says the job runs). So
every Parley worker looks, every half ``PARLEY_RESCUE_AFTER_S``, for rooms with people, a
dispatch for its agent name and no agent of that name; one that stays so for
``PARLEY_RESCUE_AFTER_S`` is dispatched again with the same metadata. A job still starting
looks the same (a loaded worker may take more than ``PARLEY_RESCUE_AFTER_S`` to join its
agent), so a dispatch is rescued only once this worker saw its agent in the room (its job was
handed out before), or once its job was handed out more than ``START_GRACE_S`` ago (a worker
that died before its agent joined). Of several workers, the one whose delete of the stale
dispatch succeeds (the server lets only one) creates the new one; the new job resumes from the
room's files (a meeting's transcript: workers that rescue each other's meetings share
``PARLEY_DATA_DIR``). A job that ends on purpose (its room emptied or was deleted, an error, a
drain) deletes its own dispatch first (:func:`forget_dispatch`), so only a killed worker or job
process leaves one behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from livekit import api
from livekit.agents import JobContext
from livekit.agents.types import ATTRIBUTE_AGENT_NAME
from livekit.protocol.models import ParticipantInfo

from .privacy import pseudonym
from .rooms import server_api
from .settings import env_value

logger = logging.getLogger("parley.rescue")

NOT_PEOPLE = (ParticipantInfo.Kind.AGENT, ParticipantInfo.Kind.EGRESS)
START_GRACE_S = 60.0
"""How long a job handed to a worker may take to join its agent before it counts as lost."""


def _api() -> api.LiveKitAPI:
    # livekit-agents exports the worker's server and credentials to its environment.
    url = env_value("LIVEKIT_URL") or ""
    return server_api(url, env_value("LIVEKIT_API_KEY"), env_value("LIVEKIT_API_SECRET"))


async def forget_dispatch(ctx: JobContext) -> None:
    """Shutdown callback: this job ends on purpose, so its room is not to be rescued."""
    job = ctx.job
    if not job.dispatch_id:
        return
    # The room may be gone already (deleted, or closed when its people left).
    with contextlib.suppress(api.TwirpError):
        async with _api() as lk:
            await lk.agent_dispatch.delete_dispatch(job.dispatch_id, job.room.name)


def _attended(people: list[ParticipantInfo], agent_name: str) -> bool:
    """An agent of ``agent_name`` is among the room's participants."""
    ours = ParticipantInfo.Kind.AGENT, agent_name
    return any((p.kind, p.attributes.get(ATTRIBUTE_AGENT_NAME)) == ours for p in people)


def _orphaned(people: list[ParticipantInfo], agent_name: str) -> bool:
    """People are in the room and none of its participants is an agent of ``agent_name``."""
    if _attended(people, agent_name):
        return False
    return any(p.kind not in NOT_PEOPLE for p in people)


def _lost(dispatch: api.AgentDispatch, agent_seen: float | None, now: float) -> bool:
    """The dispatch's agent joined and left, or never joined: its latest job was handed out
    before ``agent_seen`` (when its room last had its agent) or ``START_GRACE_S`` before
    ``now``. Wall-clock seconds; the server stamps jobs in ns since the epoch."""
    handed_out = max(j.state.started_at for j in dispatch.state.jobs) / 1e9
    return (agent_seen is not None and handed_out < agent_seen) or (
        now - handed_out > START_GRACE_S
    )


class Rescuer:
    def __init__(self, agent_name: str, after_s: float) -> None:
        self.agent_name = agent_name
        self.after_s = after_s
        self._since: dict[str, float] = {}
        """Dispatch ID → when it was first seen without its agent."""
        self._agent_seen: dict[str, float] = {}
        """Room SID → when (wall clock) it last had its agent."""

    async def sweep(self, lk: api.LiveKitAPI) -> None:
        now, seen = time.monotonic(), set[str]()
        rooms = (await lk.room.list_rooms(api.ListRoomsRequest())).rooms
        live = {room.sid for room in rooms}
        self._agent_seen = {k: v for k, v in self._agent_seen.items() if k in live}
        for room in rooms:
            if room.num_participants == 0:
                continue
            listed = await lk.room.list_participants(api.ListParticipantsRequest(room=room.name))
            people = list(listed.participants)
            if _attended(people, self.agent_name):
                self._agent_seen[room.sid] = time.time()
            if not _orphaned(people, self.agent_name):
                continue
            for d in await lk.agent_dispatch.list_dispatch(room.name):
                if d.agent_name != self.agent_name or not d.state.jobs:
                    continue  # another agent's, or not yet given to a worker (all full)
                if not _lost(d, self._agent_seen.get(room.sid), time.time()):
                    continue  # its agent may still be on its way
                seen.add(d.id)
                if now - self._since.setdefault(d.id, now) >= self.after_s:
                    await self._redispatch(lk, d)
        self._since = {k: v for k, v in self._since.items() if k in seen}

    async def _redispatch(self, lk: api.LiveKitAPI, stale: api.AgentDispatch) -> None:
        try:
            await lk.agent_dispatch.delete_dispatch(stale.id, stale.room)
        except api.TwirpError:
            return  # another worker got there first, or the room ended
        await lk.agent_dispatch.create_dispatch(
            api.CreateAgentDispatchRequest(
                agent_name=stale.agent_name, room=stale.room, metadata=stale.metadata
            )
        )
        logger.warning("room %s: its agent vanished; dispatched again", pseudonym(stale.room))

    async def run(self) -> None:
        async with _api() as lk:
            while True:
                await asyncio.sleep(self.after_s / 2)
                try:
                    await self.sweep(lk)
                except Exception as e:  # the server restarting must not end the loop
                    logger.warning("rescue sweep failed: %s", type(e).__name__)
