"""The intake mode: registered, not built yet; a room that asks for it is told so."""

from __future__ import annotations

from ..config.errors import ErrorCode, ParleyError
from .context import RoomContext


async def run(room: RoomContext) -> None:
    raise ParleyError(
        ErrorCode.MODE_UNAVAILABLE,
        "mode",
        "mode 'intake' is not available in this version of Parley yet: use assistant, "
        "interpreter or meeting.",
    )
