"""What the fakes received, and the knobs tests and benchmarks turn, over a small HTTP API.

``GET /_fake/received`` returns every recorded event; ``POST /_fake/reset`` clears them;
``POST /_fake/settings`` (JSON, e.g. ``{"ttfb_ms": 500}``) changes the behaviour of later replies,
and queues faults (``{"faults": [{"stage": "stt", "kind": "http", "status": 503}]}``).

The fakes recognise no speech and understand nothing: a test scripts what they "hear"
(``transcripts``) and which tools the "model" calls (``tool_calls``), and the real plugins
carry both through their own protocol paths.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from .faults import Fault, Handler, Stage, http_answer


class ToolCall(BaseModel):
    name: str
    arguments: dict[str, Any] = {}


class Settings(BaseModel):
    ttfb_ms: int = 0
    """Delay between a committed user turn and the first byte of the reply."""
    reply_text: str = "Hello from the fake provider. I heard you clearly."
    """What every reply says (speech is synthesized from it)."""
    transcripts: list[str] = []
    """What the next transcriptions say, in order, one per user utterance (HTTP STT and
    Realtime input transcription); once used up: "I said something for N seconds"."""
    tool_calls: list[ToolCall] = []
    """Calls the "model" makes, in order: a request that offers the next call's tool and ends
    with the user's turn gets that call instead of a reply. After a tool's result the model
    says the result's text, as a model relaying it would."""
    translations: list[str] = []
    """What the next phrases a translation session hears translate to, in order; once used
    up: ``reply_text``."""
    translation_lag_ms: int = 600
    """Audio a translation session hears of a phrase before it starts speaking it."""
    faults: list[Fault] = []
    """What goes wrong next (see ``fakes.faults``)."""


class Recorder:
    def __init__(self) -> None:
        self.settings = Settings()
        self.events: list[dict[str, Any]] = []

    def transcript(self, default: str) -> str:
        """The next scripted transcript, else ``default`` (nothing is heard in silence)."""
        if not default or not self.settings.transcripts:
            return default
        return self.settings.transcripts.pop(0)

    def tool_call(self, offered: Collection[str]) -> ToolCall | None:
        """The next scripted call if its tool is offered; a call named "" is a turn that
        calls nothing (it is used up, and the model replies)."""
        calls = self.settings.tool_calls
        if calls and calls[0].name == "":
            calls.pop(0)
            return None
        return calls.pop(0) if calls and calls[0].name in offered else None

    def fault(self, stage: Stage, kinds: Collection[str] | None = None) -> Fault | None:
        """The next fault queued for ``stage`` (of one of ``kinds``), used once (and
        recorded), if any."""
        for fault in self.settings.faults:
            if fault.stage == stage and (kinds is None or fault.kind in kinds):
                fault.times -= 1
                if fault.times <= 0:
                    self.settings.faults.remove(fault)
                self.add("fakes", "fault", stage=stage, fault=fault.kind, status=fault.status)
                return fault
        return None

    def faulty(self, stage: Stage, handler: Handler) -> Handler:
        """``handler``, unless a fault is queued for ``stage``."""

        async def handle(request: web.Request) -> web.StreamResponse:
            fault = self.fault(stage)
            return await (handler(request) if fault is None else http_answer(request, fault))

        return handle

    def add(self, provider: str, kind: str, **data: Any) -> None:
        self.events.append({"t": time.time(), "provider": provider, "kind": kind, **data})

    def routes(self) -> list[web.RouteDef]:
        async def received(_: web.Request) -> web.Response:
            return web.json_response(self.events)

        async def reset(_: web.Request) -> web.Response:
            self.events.clear()
            return web.json_response({"ok": True})

        async def settings(request: web.Request) -> web.Response:
            changes = await request.json()
            self.settings = Settings.model_validate({**self.settings.model_dump(), **changes})
            return web.json_response(self.settings.model_dump())

        return [
            web.get("/_fake/received", received),
            web.post("/_fake/reset", reset),
            web.post("/_fake/settings", settings),
        ]
