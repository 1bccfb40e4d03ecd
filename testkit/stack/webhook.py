"""A local webhook receiver (127.0.0.1) that answers from a script: statuses, or a stall."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

STALL_S = 2.0


class Receiver:
    def __init__(self, script: list[int | str]) -> None:
        """``script``: one answer per request (the last repeats): an HTTP status, or
        ``"stall"`` to answer 200 only after ``STALL_S``."""
        self.script = script
        self.bodies: list[dict[str, Any]] = []
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.json())
        step = self.script[min(len(self.bodies), len(self.script)) - 1]
        if step == "stall":
            await asyncio.sleep(STALL_S)
            step = 200
        return web.Response(status=int(step))


@asynccontextmanager
async def receiving(script: list[int | str], path: str = "/hook") -> AsyncIterator[Receiver]:
    receiver = Receiver(script)
    app = web.Application()
    app.router.add_post(path, receiver._handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}{path}"
    try:
        yield receiver
    finally:
        await runner.cleanup()
