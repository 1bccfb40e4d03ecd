"""Modes: what the agent does in a room. Each mode is the module named after its
``RoomConfig.mode`` value, with one entry point ``async def run(room: RoomContext)``;
``MODES`` finds them by that name, so adding a mode touches its module and the config
schema, nothing else. ``context``, ``session`` and ``backchannel`` are what modes share."""

from __future__ import annotations

from importlib import import_module
from typing import get_args

from ..config.models import Mode
from .context import RoomContext, Run


def _entry_point(mode: Mode) -> Run:
    run: Run = import_module(f"{__name__}.{mode}").run
    return run


MODES: dict[Mode, Run] = {mode: _entry_point(mode) for mode in get_args(Mode)}

__all__ = ["MODES", "RoomContext", "Run"]
