"""Room config: the schema, its sources and the errors a room can be told about."""

from .errors import ErrorCode, ErrorReport, ParleyError
from .models import RoomConfig
from .sources import Layer, resolve

__all__ = ["ErrorCode", "ErrorReport", "Layer", "ParleyError", "RoomConfig", "resolve"]
