"""The playground's web server: the page, and ``POST /api/join`` that opens a room for it.

    python -m agent playground [--host 127.0.0.1] [--port 8780]

``/api/join`` checks every field (see ``request.py``), creates the room and dispatches the
agent with the page's room config (or joins an existing room as another participant), and
answers with a token for that one room: join, publish, subscribe and set one's own
attributes, never an admin grant. The LiveKit server and agent name come from the same
environment as the worker's (``LIVEKIT_URL``, ``LIVEKIT_API_KEY``, ``LIVEKIT_API_SECRET``,
``LIVEKIT_AGENT_NAME``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import get_args

from aiohttp import web
from livekit import api

from .. import protocol
from ..config.models import TURN_PRESETS
from ..privacy import drop_personal_data, pseudonym
from ..rooms import create_room, dispatch, room_exists, token
from ..settings import DEFAULT_AGENT_NAME, load_env_files
from .guard import Guard
from .request import LANGUAGES, PIPELINE_LABELS, PageMode, RequestError, parse_join

logger = logging.getLogger("parley.playground")

WEB_DIR = Path(__file__).resolve().parent / "web"
"""The page, package data (a link to the checkout's ``web/``, copied into the wheel)."""
DEFAULT_PORT = 8780
MAX_BODY_BYTES = 16 * 1024


@dataclass(frozen=True)
class LiveKit:
    url: str
    api_key: str
    api_secret: str
    agent_name: str

    @classmethod
    def from_env(cls) -> LiveKit:
        return cls(
            url=os.environ.get("LIVEKIT_URL") or "ws://127.0.0.1:7880",
            api_key=os.environ.get("LIVEKIT_API_KEY") or "devkey",
            api_secret=os.environ.get("LIVEKIT_API_SECRET") or "secret",
            agent_name=os.environ.get("LIVEKIT_AGENT_NAME") or DEFAULT_AGENT_NAME,
        )


TOKEN_TTL = timedelta(minutes=30)
"""Long enough to join: once in, the LiveKit server refreshes a participant's token."""
MAX_ROOMS = 10_000
"""Rooms remembered as this playground's own (the oldest are forgotten first)."""


LIVEKIT = web.AppKey("livekit", LiveKit)
ROOMS = web.AppKey("rooms", dict[str, None])
"""The rooms this playground opened, oldest first."""
JOIN_ANY_ROOM = web.AppKey("join_any_room", bool)


def _identity(name: str) -> str:
    """Unique per join (64 random bits), so two tabs with the same name are two participants
    and nobody can guess another's identity."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:24] or "guest"
    return f"{slug}-{secrets.token_hex(8)}"


async def options(_: web.Request) -> web.Response:
    return web.json_response(
        {
            "modes": list(get_args(PageMode)),
            "pipelines": PIPELINE_LABELS,
            "presets": list(TURN_PRESETS),
            "languages": LANGUAGES,
            "protocol": protocol.for_clients(),
        }
    )


async def join(request: web.Request) -> web.Response:
    lk = request.app[LIVEKIT]
    try:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise RequestError("", "the body is not JSON: send a JSON object") from None
        req = parse_join(body)
    except RequestError as e:
        return web.json_response(e.to_json(), status=400)
    config = req.room_config()
    ours = request.app[ROOMS]
    if req.room and req.room not in ours and not request.app[JOIN_ANY_ROOM]:
        error = RequestError(
            "room", "join a room this playground opened (its share link), or leave room empty"
        )
        return web.json_response(error.to_json(), status=403)
    try:
        if req.room and await room_exists(lk.url, lk.api_key, lk.api_secret, req.room):
            room, opened = req.room, False  # a second participant: the agent is already there
        else:
            room, opened = req.room or f"play-{req.mode}-{secrets.token_hex(3)}", True
            await create_room(lk.url, lk.api_key, lk.api_secret, room)
            await dispatch(
                lk.url, lk.api_key, lk.api_secret, room, lk.agent_name, json.dumps(config)
            )
            ours[room] = None
            if len(ours) > MAX_ROOMS:
                del ours[next(iter(ours))]
    except (api.TwirpError, OSError) as e:
        logger.warning("cannot open a room on %s: %s", lk.url, e)
        message = f"the LiveKit server at {lk.url} refused or did not answer: is it running?"
        return web.json_response({"error": {"field": "", "message": message}}, status=502)
    identity = _identity(req.name)
    jwt = token(
        lk.api_key,
        lk.api_secret,
        room,
        identity,
        {
            "language": req.language,
            **({protocol.ROLE: protocol.CLINICIAN} if req.view == "clinician" else {}),
        },
        name=req.name,
        ttl=TOKEN_TTL,
    )
    logger.info(
        "playground join: room %s, %s, opened=%s", pseudonym(room), pseudonym(identity), opened
    )
    return web.json_response(
        {
            "url": lk.url,
            "token": jwt,
            "room": room,
            "identity": identity,
            "opened": opened,
            "config": config if opened else None,
        }
    )


@web.middleware
async def _no_stack_traces(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Whatever goes wrong answers JSON with a message, never a traceback page."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except web.HTTPException as e:
        if request.path.startswith("/api/"):
            message = f"{e.reason}: {request.method} {request.path}"
            return web.json_response({"error": {"field": "", "message": message}}, status=e.status)
        raise
    except Exception:
        logger.exception("playground request failed")
        message = "the playground backend failed on this request; see its log"
        return web.json_response({"error": {"field": "", "message": message}}, status=500)


async def _index(_: web.Request) -> web.FileResponse:
    return web.FileResponse(WEB_DIR / "index.html")


def create_app(livekit: LiveKit, guard: Guard, *, join_any_room: bool = False) -> web.Application:
    """``join_any_room``: let the page join rooms it did not open (a deployment that lists
    its own rooms); by default only its own."""
    app = web.Application(
        client_max_size=MAX_BODY_BYTES, middlewares=[_no_stack_traces, guard.middleware]
    )
    app[LIVEKIT] = livekit
    app[ROOMS] = {}
    app[JOIN_ANY_ROOM] = join_any_room
    app.router.add_get("/", _index)
    app.router.add_get("/api/options", options)
    app.router.add_post("/api/join", join)
    app.router.add_static("/static/", WEB_DIR)
    return app


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m agent playground", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("PARLEY_PLAYGROUND_PORT") or DEFAULT_PORT)
    )
    args = parser.parse_args(argv)
    load_env_files()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    drop_personal_data()
    lk = LiveKit.from_env()
    print(
        f"playground: http://{args.host}:{args.port}/ (LiveKit {lk.url}; page {WEB_DIR})",
        flush=True,
    )
    extra = os.environ.get("PARLEY_PLAYGROUND_HOSTS") or ""
    guard = Guard.for_address(args.host, args.port, (h.strip() for h in extra.split(",") if h))
    join_any = os.environ.get("PARLEY_PLAYGROUND_JOIN_ANY_ROOM") == "1"
    web.run_app(
        create_app(lk, guard, join_any_room=join_any), host=args.host, port=args.port, print=None
    )
    return 0
