"""A local webhook receiver (127.0.0.1) that answers from a script: statuses, a stall, or a
redirect; it keeps each request's body, raw bytes and headers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

STALL_S = 2.0


class Receiver:
    def __init__(self, script: list[int | str]) -> None:
        """``script``: one answer per request (the last repeats): an HTTP status,
        ``"stall"`` to answer 200 only after ``STALL_S``, or ``"redirect"`` to send the
        caller on to ``/elsewhere`` (which would count as a request too)."""
        self.script = script
        self.bodies: list[dict[str, Any]] = []
        self.raw: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        self.raw.append(await request.read())
        self.bodies.append(await request.json())
        self.headers.append(dict(request.headers))
        step = self.script[min(len(self.bodies), len(self.script)) - 1]
        if step == "stall":
            await asyncio.sleep(STALL_S)
            step = 200
        if step == "redirect":
            raise web.HTTPTemporaryRedirect("/elsewhere")
        return web.Response(status=int(step))


@asynccontextmanager
async def receiving(script: list[int | str], path: str = "/hook") -> AsyncIterator[Receiver]:
    receiver = Receiver(script)
    app = web.Application()
    app.router.add_post(path, receiver._handle)
    app.router.add_post("/elsewhere", receiver._handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}{path}"
    try:
        yield receiver
    finally:
        await runner.cleanup()
