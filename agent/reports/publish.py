"""A report leaves the worker one way: one log line, and the agent's participant attribute."""

from __future__ import annotations

import logging

from livekit import rtc
from pydantic import BaseModel

from ..background import spawn

logger = logging.getLogger("parley.reports")


def publish(room: rtc.Room, attribute: str, report: BaseModel) -> None:
    """Numbers only: reports never carry transcript text."""
    text = report.model_dump_json(exclude_none=True)
    logger.info("%s %s", attribute, text)
    if room.isconnected():
        spawn(room.local_participant.set_attributes({attribute: text}))
