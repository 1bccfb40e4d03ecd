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
    MODEL_UNAVAILABLE = "model_unavailable"
    UNSUPPORTED_LANGUAGE_PAIR = "unsupported_language_pair"
    INTERNAL_ERROR = "internal_error"


MEANINGS: dict[ErrorCode, str] = {
    ErrorCode.MALFORMED_JSON: "metadata that is not a JSON object (the message names which source)",
    ErrorCode.UNSUPPORTED_VERSION: "`version` other than 1",
    ErrorCode.UNKNOWN_MODE: "a `mode` outside the schema's list",
    ErrorCode.UNKNOWN_PROVIDER: "a `provider` outside the schema's list",
    ErrorCode.UNKNOWN_FIELD: "a key the schema does not have (typos)",
    ErrorCode.INVALID_VALUE: "wrong type, out of range, missing required field",
    ErrorCode.MISSING_CREDENTIALS: "the chosen provider's key is not set on the worker (names "
    "the env var)",
    ErrorCode.PROVIDER_UNREACHABLE: "TCP connect to the provider fails (names the base-URL "
    "env var)",
    ErrorCode.PROVIDER_ERROR: "the provider (or a plugin) rejected the session or its options, "
    "or failed unrecoverably mid-session",
    ErrorCode.MODEL_UNAVAILABLE: "an offline model name with no file in the worker's models "
    "directory, a corrupted model file, or a language with no offline STT or TTS voice (the "
    "message says what to install)",
    ErrorCode.UNSUPPORTED_LANGUAGE_PAIR: "interpreter: a speaker/listener pair the pipeline "
    "cannot translate (the agent stays for the others)",
    ErrorCode.INTERNAL_ERROR: "a bug: the worker log has the traceback",
}
"""When a room sees each code (the docs' table is generated from it)."""


def error_table() -> str:
    rows = ["| code | when |", "|---|---|"]
    rows += [f"| `{code}` | {MEANINGS[code]} |" for code in ErrorCode]
    return "\n".join(rows)


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
    """A room-level problem the user can fix; never takes down the worker. Its text is the
    message alone, so a plugin that shows an exception's reason shows the fix."""

    def __init__(self, code: ErrorCode, field: str, message: str) -> None:
        super().__init__(message)
        self.report = ErrorReport(code=code, field=field, message=message)
