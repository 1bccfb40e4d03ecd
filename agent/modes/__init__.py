"""Modes: what the agent does in a room (assistant now; interpreter, meeting, intake next)."""

from __future__ import annotations

from livekit.agents import Agent

from ..config.models import RoomConfig
from .assistant import Assistant


def build_agent(config: RoomConfig) -> Agent:
    """The agent for the room's mode (the config layer already refused unavailable modes)."""
    assert config.mode == "assistant", config.mode
    return Assistant(config)
