"""``parley.status``: the parts of a room that are down right now, for its clients to show.

A part that fails is retried by its plugin; while it is down the room says so, and the entry
goes once it works again. The log line names the part and the error's type, never who: an
identity may name a patient.
"""

from __future__ import annotations

import logging
import time

from livekit import rtc
from pydantic import BaseModel

from .. import protocol
from ..background import spawn

logger = logging.getLogger("parley.reports")


class Outage(BaseModel):
    part: str
    """``stt``, ``voice``, ``session`` or ``provider``."""
    who: str
    """The speaker's identity (``stt``), the language (``voice``), both (``session``), or
    ``pipeline`` (``provider``)."""
    error: str
    """The error's type."""
    since: float


class RoomStatus(BaseModel):
    down: list[Outage] = []


class StatusBoard:
    def __init__(self, room: rtc.Room) -> None:
        self._room = room
        self._down: dict[tuple[str, str], Outage] = {}
        self.errors: list[str] = []
        """``part: error`` of each outage during the session, in order (a part down twice
        is there twice), and ``part: error, retried`` of each failed attempt a model retried
        on its own."""

    def retried(self, part: str, error: str) -> None:
        self.errors.append(f"{part}: {error}, retried")
        logger.warning("room part %s failed once (%s), retried", part, error)

    def told(self, part: str, who: str, error: str | None) -> None:
        key = (part, who)
        if error is None:
            if self._down.pop(key, None) is None:
                return
            logger.info("room part %s is back", part)
        else:
            if key in self._down:
                return
            self._down[key] = Outage(part=part, who=who, error=error, since=time.time())
            self.errors.append(f"{part}: {error}")
            logger.warning("room part %s is down (%s)", part, error)
        status = RoomStatus(down=list(self._down.values())).model_dump_json()
        if self._room.isconnected():
            spawn(self._room.local_participant.set_attributes({protocol.STATUS: status}))
