"""Modes: what the agent does in a room. Each mode is the module named after its
``RoomConfig.mode`` value, with one entry point ``async def run(room: RoomContext)``;
``MODES`` finds them by that name, so adding a mode touches its module and the config
schema, nothing else. A mode with work to do after its room ends (notes, records, their
webhooks) says how long it may take as ``FINISH_S``. ``context``, ``session`` and
``backchannel`` are what modes share."""

from __future__ import annotations

from importlib import import_module
from typing import get_args

from ..config.models import Mode
from .context import RoomContext, Run


def _entry_point(mode: Mode) -> Run:
    run: Run = import_module(f"{__name__}.{mode}").run
    return run


def _finish_s(mode: Mode) -> float:
    return float(getattr(import_module(f"{__name__}.{mode}"), "FINISH_S", 0.0))


MODES: dict[Mode, Run] = {mode: _entry_point(mode) for mode in get_args(Mode)}
FINISH_S = max(_finish_s(mode) for mode in get_args(Mode))
"""The longest any mode's end-of-room work may take."""

__all__ = ["FINISH_S", "MODES", "RoomContext", "Run"]
