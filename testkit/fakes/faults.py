"""The fault switchboard: what goes wrong with the fakes' next answers, set per test.

``POST /_fake/settings`` with ``{"faults": [...]}`` queues faults; each applies to the next
``times`` requests (HTTP) or sessions (WebSocket) of its stage, then is used up, and each one
injected is recorded (``kind: "fault"``), so a test can tell the fault happened. The
``realtime`` stage is whichever speech-to-speech session comes next: OpenAI Realtime's or
Gemini Live's; an OpenAI Realtime transcription session is the ``stt`` stage, an OpenAI
realtime translation session the ``translation`` stage.

- ``http``: an error status (``status``, with ``Retry-After`` when ``retry_after_s`` is set),
  or the WebSocket upgrade refused with it;
- ``stall``: nothing for ``stall_s`` seconds, then a 504 (the client's timeout comes first);
- ``close``: the connection dropped before an HTTP answer, or a live WebSocket session's
  socket closed ``after_events`` events after the fault was queued (mid-reply, if a reply
  is under way);
- ``malformed``: a body that is not JSON (HTTP), or an event that is not (WebSocket),
  after ``after_events`` events;
- ``silent``: a live WebSocket session that, after ``after_events`` events, sends nothing
  for ``stall_s`` seconds while it goes on taking the client's (a provider gone quiet).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Literal

from aiohttp import web
from pydantic import BaseModel

Stage = Literal["stt", "llm", "tts", "realtime", "translation"]
ON_CONNECT = ("http", "stall")
"""WebSocket faults that refuse a new session."""
LIVE = ("close", "malformed", "silent")
"""WebSocket faults that strike a live session."""


class Fault(BaseModel):
    stage: Stage
    kind: Literal["http", "stall", "close", "malformed", "silent"]
    status: int = 503
    retry_after_s: float | None = None
    stall_s: float = 30.0
    after_events: int = 0
    times: int = 1


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def http_answer(request: web.Request, fault: Fault) -> web.StreamResponse:
    """What an HTTP request gets instead of its answer."""
    if fault.kind == "stall":
        await asyncio.sleep(fault.stall_s)
        return _error(504, "Gateway timeout.")
    if fault.kind == "close":
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=499)  # never reaches the client: its socket is gone
    if fault.kind == "malformed":
        return web.Response(text='{"id": "cmpl-', content_type="application/json")
    headers = {"Retry-After": f"{fault.retry_after_s:g}"} if fault.retry_after_s else {}
    return _error(fault.status, "The fake provider is failing on purpose.", headers)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    error = {"message": message, "type": "server_error", "param": None, "code": None}
    return web.json_response({"error": error}, status=status, headers=headers)
