"""What the fakes received, and the knobs tests and benchmarks turn, over a small HTTP API.

``GET /_fake/received`` returns every recorded event; ``POST /_fake/reset`` clears them;
``POST /_fake/settings`` (JSON, e.g. ``{"ttfb_ms": 500}``) changes the behaviour of later replies.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web
from pydantic import BaseModel


class Settings(BaseModel):
    ttfb_ms: int = 0
    """Delay between a committed user turn and the first byte of the reply."""
    reply_text: str = "Hello from the fake provider. I heard you clearly."
    """What every reply says (speech is synthesized from it)."""


class Recorder:
    def __init__(self) -> None:
        self.settings = Settings()
        self.events: list[dict[str, Any]] = []

    def add(self, provider: str, kind: str, **data: Any) -> None:
        self.events.append({"t": time.time(), "provider": provider, "kind": kind, **data})

    def routes(self) -> list[web.RouteDef]:
        async def received(_: web.Request) -> web.Response:
            return web.json_response(self.events)

        async def reset(_: web.Request) -> web.Response:
            self.events.clear()
            return web.json_response({"ok": True})

        async def settings(request: web.Request) -> web.Response:
            self.settings = self.settings.model_copy(update=await request.json())
            return web.json_response(self.settings.model_dump())

        return [
            web.get("/_fake/received", received),
            web.post("/_fake/reset", reset),
            web.post("/_fake/settings", settings),
        ]
