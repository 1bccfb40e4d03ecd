"""What every mode is handed: the room's job, its config, the worker's settings and the
process's preloaded models; and the one way a room is told what went wrong."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from livekit import rtc
from livekit.agents import JobContext, vad
from livekit.plugins.participants import room_file_stem

from .. import protocol
from ..background import spawn
from ..config.errors import ErrorCode, ErrorReport, ParleyError
from ..config.models import RoomConfig
from ..privacy import pseudonym, scrub
from ..reports.status import StatusBoard
from ..settings import WorkerSettings
from .phone import hang_up_all

logger = logging.getLogger("parley")


async def tell_room(job: JobContext, report: ErrorReport) -> None:
    """Sets ``parley.error`` and logs one warning (no transcript text, no secrets)."""
    logger.warning(
        "room %s: %s at %r: %s",
        pseudonym(job.job.room.name),
        report.code,
        report.field,
        report.message,
    )
    if not job.room.isconnected():
        await job.connect()
    await job.room.local_participant.set_attributes({protocol.ERROR: report.to_attribute()})


async def leave_with_error(job: JobContext, report: ErrorReport, grace_s: float) -> None:
    """Tells the room what is wrong, then leaves after a grace period so clients can read it;
    phone callers, who cannot read it, are hung up."""
    await tell_room(job, report)
    await asyncio.sleep(grace_s)
    await hang_up_all(job)
    job.shutdown(reason=f"{protocol.ERROR}: {report.code}")


@dataclass(frozen=True)
class RoomContext:
    job: JobContext
    config: RoomConfig
    settings: WorkerSettings
    vad: vad.VAD
    """Loaded once per job process (prewarm), shared by the rooms it serves."""

    @property
    def room(self) -> rtc.Room:
        return self.job.room

    @functools.cached_property
    def status(self) -> StatusBoard:
        """``parley.status``: one board per room, whichever parts report to it."""
        return StatusBoard(self.room)

    @property
    def file_stem(self) -> str:
        """What the room's files are named by: its SID and a readable part of its name
        (without a caller's number)."""
        return room_file_stem(self.job.job.room.sid, scrub(self.job.job.room.name))

    def report(self, error: ErrorReport) -> None:
        """Tells the room about a problem the agent works around (it stays)."""
        spawn(tell_room(self.job, error))

    def fail(self, error: ErrorReport) -> None:
        """Tells the room about a problem the agent cannot work around, then leaves."""
        spawn(leave_with_error(self.job, error, self.settings.error_grace_s))

    @contextlib.contextmanager
    def options_of(self, field: str) -> Iterator[None]:
        """Plugins refuse bad options and credentials files with ``ValueError``: the room
        learns it as a ``provider_error`` on ``field``."""
        try:
            yield
        except ValueError as e:
            raise ParleyError(ErrorCode.PROVIDER_ERROR, field, str(e)) from None


Run = Callable[[RoomContext], Awaitable[None]]
"""A mode's entry point: returns once the mode runs in the room; errors it raises as
``ParleyError`` reach the room as ``parley.error``."""
