"""What the playground page may ask for, checked field by field before any room is opened.

The page picks from a few choices; the backend turns them into a room config. Nothing the
browser sends is trusted: unknown fields, odd characters, oversized values and unknown
choices are refused with the field's name and what would be accepted.
"""

from __future__ import annotations

import json
from typing import Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from ..config.defaults import OFFLINE_CASCADE
from ..config.models import TURN_PRESETS, InterpreterBackend, LanguageTag, TurnPreset
from ..config.sources import merge

PageMode = Literal["assistant", "interpreter", "meeting", "intake"]
PagePipeline = Literal[
    "offline",
    "openai-cascade",
    "openai-realtime",
    "gemini-realtime",
    "openai-translation",
    "gemini-translation",
    "seamless",
]

PIPELINES: dict[PagePipeline, dict[str, Any]] = {
    # Needs no key: Whisper, SmolLM2 (or Apertium for translation) and espeak-ng on the CPU.
    "offline": OFFLINE_CASCADE,
    "openai-cascade": {
        "kind": "cascade",
        "stt": {"provider": "openai"},
        "llm": {"provider": "openai"},
        "tts": {"provider": "openai"},
    },
    "openai-realtime": {"kind": "realtime", "provider": "openai"},
    "gemini-realtime": {"kind": "realtime", "provider": "google"},
    # The interpreter's translation backend stands in for the pipeline (which needs no key).
    "openai-translation": OFFLINE_CASCADE,
    "gemini-translation": OFFLINE_CASCADE,
    "seamless": OFFLINE_CASCADE,
}
INTERPRETER_BACKENDS: dict[PagePipeline, InterpreterBackend] = {
    "openai-translation": "openai-translation",
    "gemini-translation": "gemini-translation",
    "seamless": "seamless",
}
"""Page choices that are an interpreter backend, not a pipeline: interpreter mode only."""
PIPELINE_LABELS: dict[PagePipeline, str] = {
    "offline": "Offline cascade (no key: Whisper → SmolLM2 → espeak-ng)",
    "openai-cascade": "OpenAI cascade (STT → LLM → TTS)",
    "openai-realtime": "OpenAI Realtime (speech to speech)",
    "gemini-realtime": "Gemini Live (speech to speech)",
    "openai-translation": "OpenAI realtime translation (interpreter mode)",
    "gemini-translation": "Gemini Live translation (interpreter mode)",
    # Its licence is acknowledged in the room config (Advanced), never by the page itself.
    "seamless": "SeamlessM4T v2 on the worker (interpreter mode; CC-BY-NC 4.0: set "
    "interpreter.accept_license in Advanced)",
}
LANGUAGES: dict[str, str] = {
    "en": "English",
    "es": "Spanish",
    "ca": "Catalan",
    "fr": "French",
    "de": "German",
    "it": "Italian",
    "pt": "Portuguese",
}
"""Offered in the page's list; any valid language tag is accepted."""

MAX_CONFIG_BYTES = 4096
HINTS: dict[str, str] = {
    "name": "1–40 characters: letters, digits, spaces and . ' - _",
    "language": "a language tag such as en, es or pt-BR",
    "room": "1–48 characters: letters, digits, - and _ (or empty for a new room)",
    "mode": f"one of {', '.join(get_args(PageMode))}",
    "pipeline": f"one of {', '.join(PIPELINES)} ({', '.join(INTERPRETER_BACKENDS)} in mode "
    "interpreter only)",
    "preset": f"one of {', '.join(TURN_PRESETS)}",
    "config": f"a JSON object of room-config fields, at most {MAX_CONFIG_BYTES} bytes",
    "view": "caller, or clinician (intake: watch the record, do not talk)",
}


class JoinRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=40, pattern=r"^\w[\w .'-]*$")
    language: LanguageTag = "en"
    room: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,48}$")
    """An existing room to join as another participant; none: open a new room."""
    mode: PageMode = "assistant"
    pipeline: PagePipeline = "offline"
    view: Literal["caller", "clinician"] = "caller"
    preset: TurnPreset = "conversation"
    """Turn-taking (cascade pipelines; realtime models detect turns themselves)."""
    config: dict[str, Any] | None = None
    """Advanced: room-config fields laid over the page's choices. The agent checks them, so
    a mistake shows as the room's ``parley.error``, as any client would see it."""

    @field_validator("room", mode="before")
    @classmethod
    def _empty_room_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("pipeline")
    @classmethod
    def _backend_interprets(cls, value: PagePipeline, info: ValidationInfo) -> PagePipeline:
        if value in INTERPRETER_BACKENDS and info.data.get("mode") != "interpreter":
            raise ValueError("interprets only")
        return value

    @field_validator("config")
    @classmethod
    def _small(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(json.dumps(value)) > MAX_CONFIG_BYTES:
            raise ValueError("too large")
        return value

    def room_config(self) -> dict[str, Any]:
        base: dict[str, Any] = {
            "mode": self.mode,
            "pipeline": PIPELINES[self.pipeline],
            "language": self.language,
            "turn_taking": {"preset": self.preset},
        }
        if self.pipeline in INTERPRETER_BACKENDS:
            base["interpreter"] = {"backend": INTERPRETER_BACKENDS[self.pipeline]}
        # Merged as the worker merges config layers: Advanced's fields refine the choices.
        return merge(base, self.config or {})


class RequestError(Exception):
    """A refused request: which field, and what the page should send instead."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message

    def to_json(self) -> dict[str, dict[str, str]]:
        return {"error": {"field": self.field, "message": self.message}}


def parse_join(body: object) -> JoinRequest:
    if not isinstance(body, dict):
        raise RequestError("", "send a JSON object with name, language, mode and pipeline")
    try:
        return JoinRequest.model_validate(body)
    except ValidationError as e:
        first = e.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        if first["type"] == "extra_forbidden":
            raise RequestError(
                field, f"unknown field '{field}': send only {', '.join(HINTS)}"
            ) from None
        shown = repr(body.get(field))[:60] if field in body else "nothing"
        hint = HINTS.get(field, "")
        raise RequestError(field, f"{field} got {shown}: expected {hint}") from None
