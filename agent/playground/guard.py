"""Who may use the playground's backend: only its own page.

The backend mints tokens and opens rooms on the worker's LiveKit project, so it must be no
open door once something else can reach it:
- every request names this server in ``Host`` (a page on another site whose name was
  pointed at 127.0.0.1, DNS rebinding, sends its own name), and a ``POST`` comes from this
  server's page (``Origin``; cross-site requests carry theirs) with a JSON body (a
  cross-site form cannot send ``application/json`` without asking first);
- each client may ask for a few rooms a minute (429 past that, with ``Retry-After``).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _refusal(status: int, field_name: str, message: str) -> web.Response:
    return web.json_response({"error": {"field": field_name, "message": message}}, status=status)


@dataclass
class Guard:
    hosts: frozenset[str]
    """``host:port`` values this server answers to."""
    joins_per_minute: int = 10
    _recent: dict[str, deque[float]] = field(default_factory=dict)

    @classmethod
    def for_address(cls, host: str, port: int, extra: Iterable[str] = ()) -> Guard:
        names = {host, "127.0.0.1", "localhost"} if host in ("127.0.0.1", "localhost") else {host}
        return cls(frozenset({f"{name}:{port}" for name in names} | set(extra)))

    def _too_many(self, client: str) -> float | None:
        """Seconds to wait, if ``client`` asked for ``joins_per_minute`` rooms already."""
        now = time.monotonic()
        recent = self._recent.setdefault(client, deque())
        while recent and now - recent[0] > 60:
            recent.popleft()
        if len(recent) >= self.joins_per_minute:
            return 60 - (now - recent[0])
        recent.append(now)
        return None

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.host not in self.hosts:
            return _refusal(403, "Host", f"this playground answers only to {sorted(self.hosts)}")
        if request.method == "POST":
            origins = {f"{scheme}://{host}" for host in self.hosts for scheme in ("http", "https")}
            if request.headers.get("Origin") not in origins:
                return _refusal(403, "Origin", "requests come from the playground's own page")
            if request.content_type != "application/json":
                return _refusal(415, "Content-Type", "send the request as application/json")
            wait = self._too_many(request.remote or "")
            if wait is not None:
                response = _refusal(
                    429, "", f"too many rooms asked for: wait {wait:.0f} s and try again"
                )
                response.headers["Retry-After"] = str(max(1, round(wait)))
                return response
        return await handler(request)
