"""A room with the agent dispatched into it and a user joined: shared by tests and benches."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Collection, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agent import protocol
from agent.rooms import create_room, dispatch, token

from .livekit_server import API_KEY, API_SECRET, LiveKitServer
from .participant import Participant, Transcript

USER = "user"


def _text(value: dict[str, Any] | str) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@asynccontextmanager
async def room_with(
    server: LiveKitServer,
    agent_name: str,
    people: Mapping[str, Mapping[str, str]],
    *,
    dispatch_metadata: dict[str, Any] | str = "",
    room_metadata: dict[str, Any] | str = "",
    prefix: str = "room",
    listeners: Collection[str] | None = None,
    name: str | None = None,
) -> AsyncIterator[dict[str, Participant]]:
    """A new room with ``people`` (identity → initial attributes) joined, then the agent
    dispatched into it. ``listeners``: who subscribes to audio (default: everyone);
    ``name``: this very name (default: ``prefix`` and a random part)."""
    name = name or f"{prefix}-{uuid.uuid4().hex[:8]}"
    await create_room(server.url, API_KEY, API_SECRET, name, room_metadata=_text(room_metadata))
    joined: dict[str, Participant] = {}
    try:
        for identity, attributes in people.items():
            joined[identity] = Participant()
            jwt = token(API_KEY, API_SECRET, name, identity, dict(attributes))
            hears = listeners is None or identity in listeners
            await joined[identity].join(server.url, jwt, auto_subscribe=hears)
        await dispatch(server.url, API_KEY, API_SECRET, name, agent_name, _text(dispatch_metadata))
        yield joined
    finally:
        for participant in joined.values():
            await participant.leave()


@asynccontextmanager
async def joined_room(
    server: LiveKitServer,
    agent_name: str,
    *,
    dispatch_metadata: dict[str, Any] | str = "",
    room_metadata: dict[str, Any] | str = "",
    prefix: str = "room",
) -> AsyncIterator[Participant]:
    """A new room with the agent dispatched into it and one user participant joined."""
    async with room_with(
        server,
        agent_name,
        {USER: {}},
        dispatch_metadata=dispatch_metadata,
        room_metadata=room_metadata,
        prefix=prefix,
    ) as people:
        yield people[USER]


@dataclass
class Exchange:
    """One user turn and the agent's answer, as the user experienced them."""

    v2v_s: float
    """End of the user's speech → first audible agent frame (client-observed)."""
    user_transcript: str
    """The user's final transcripts of this turn, as the agent published them."""
    agent_audio: np.ndarray
    """The answer as the user heard it, int16 at ``participant.SAMPLE_RATE``: from the
    agent's last start of speech before the answer's end (without the tail of a reply the
    user's last word cut off)."""
    timing: dict[str, float]
    """The agent's own ``parley.turn`` report for this turn ({} if it sent none)."""


def _turn_report(user: Participant) -> str | None:
    agent = user.agent()
    return agent.attributes.get(protocol.TURN) if agent else None


def _finals(user: Participant) -> list[Transcript]:
    return [t for t in user.transcripts if t.identity == USER and t.final]


async def converse(
    user: Participant, wav: Path, timeout: float = 60.0, *, reports: bool = True
) -> Exchange:
    """Speaks ``wav`` once the agent listens, and waits until the agent has answered it.

    The answer is the reply that played to its end: livekit-agents also shows the agent as
    ``listening`` while a reply is paused or after it was cut off by the user's own words (a
    reply that began in a pause of the user's sentence), so the end of the answer is the first
    ``parley.turn`` of a reply that was not interrupted. ``reports=False``: an agent that
    publishes no ``parley.turn`` (a bare livekit-agents one) is taken at its first
    ``listening``."""
    await user.wait_for_agent_state("listening", timeout)
    before = len(_finals(user))
    last_timing = _turn_report(user)
    await user.speak(wav)
    assert user.speech_end is not None
    spoke_at = user.speech_end
    v2v = await user.wait_for_agent_sound(timeout)
    timing = await _completed_turn(user, last_timing, timeout) if reports else None
    await user.wait_for_agent_state("listening", timeout)
    await user.wait_for_agent_quiet(spoke_at, timeout=timeout)
    return Exchange(
        v2v_s=v2v,
        user_transcript=" ".join(t.text for t in _finals(user)[before:]),
        agent_audio=user.agent_audio_after(max(spoke_at, _answer_began(user))),
        timing=json.loads(timing) if timing else {},
    )


ATTRIBUTE_LEAD_S = 0.3
"""How much earlier than its ``speaking`` attribute an answer's first audio may arrive: they
travel apart (data channel, audio track)."""


def _answer_began(user: Participant) -> float:
    began = [at for at, state in user.agent_states if state == "speaking"]
    return began[-1] - ATTRIBUTE_LEAD_S if began else 0.0


async def _completed_turn(user: Participant, last: str | None, timeout: float) -> str:
    """The first new ``parley.turn`` of a reply that was not interrupted."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        report = _turn_report(user)
        if report and report != last and not json.loads(report).get("interrupted"):
            return report
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"no reply played to its end within {timeout}s")
        await asyncio.sleep(0.05)
