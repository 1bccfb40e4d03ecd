"""The one error shape a room sees: ``parley.error`` = ``{"code", "field", "message"}``."""

from __future__ import annotations

import json
from enum import StrEnum

from pydantic import BaseModel


class ErrorCode(StrEnum):
    MALFORMED_JSON = "malformed_json"
    UNSUPPORTED_VERSION = "unsupported_version"
    UNKNOWN_MODE = "unknown_mode"
    UNKNOWN_PROVIDER = "unknown_provider"
    UNKNOWN_FIELD = "unknown_field"
    INVALID_VALUE = "invalid_value"
    MISSING_CREDENTIALS = "missing_credentials"
    PROVIDER_UNREACHABLE = "provider_unreachable"
    PROVIDER_ERROR = "provider_error"
    MODE_UNAVAILABLE = "mode_unavailable"
    MODEL_UNAVAILABLE = "model_unavailable"
    UNSUPPORTED_LANGUAGE_PAIR = "unsupported_language_pair"
    INTERNAL_ERROR = "internal_error"


class ErrorReport(BaseModel):
    """Published as the agent's participant attribute ``parley.error``."""

    code: ErrorCode
    field: str
    """Dotted path of the room-config field (or env var) at fault; empty when none applies."""
    message: str
    """What is wrong and how to fix it, for a human."""

    def to_attribute(self) -> str:
        return json.dumps(self.model_dump(mode="json"), separators=(",", ":"))


class ParleyError(Exception):
    """A room-level problem the user can fix; never takes down the worker."""

    def __init__(self, code: ErrorCode, field: str, message: str) -> None:
        super().__init__(f"{code}: {field}: {message}" if field else f"{code}: {message}")
        self.report = ErrorReport(code=code, field=field, message=message)
