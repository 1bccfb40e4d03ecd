"""Opening a room with a config, dispatching the worker into it, and joining as a user."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from stack.fakes import FakeProviders
from stack.livekit_server import API_KEY, API_SECRET, LiveKitServer
from stack.participant import Participant, create_room, dispatch, token

USER = "user"

MEASUREMENTS: list[str] = []
"""Lines for the end-of-run summary (client-observed latencies), printed by conftest."""


def worker_env(server: LiveKitServer, fakes: FakeProviders, **overrides: str) -> dict[str, str]:
    """A worker's environment: the test server, the fakes, and nothing from the developer's."""
    return {
        **server.env(),
        **fakes.env(),
        "GOOGLE_APPLICATION_CREDENTIALS": "",
        "PARLEY_LOAD_THRESHOLD": "inf",
        "PARLEY_ERROR_GRACE_S": "3",
        "PARLEY_DEFAULT_CONFIG": "",
        "PARLEY_CONFIG_FILE": "",
        **overrides,
    }


@asynccontextmanager
async def joined_room(
    server: LiveKitServer,
    agent_name: str,
    *,
    dispatch_metadata: dict[str, Any] | str = "",
    room_metadata: dict[str, Any] | str = "",
    prefix: str = "room",
) -> AsyncIterator[Participant]:
    """A new room with the agent dispatched into it and a user participant joined."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"

    def text(value: dict[str, Any] | str) -> str:
        return value if isinstance(value, str) else json.dumps(value)

    await create_room(server.url, API_KEY, API_SECRET, name, room_metadata=text(room_metadata))
    participant = Participant()
    await participant.join(server.url, token(API_KEY, API_SECRET, name, USER))
    await dispatch(server.url, API_KEY, API_SECRET, name, agent_name, text(dispatch_metadata))
    try:
        yield participant
    finally:
        await participant.leave()
