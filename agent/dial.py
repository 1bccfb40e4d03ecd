"""``python -m agent dial``: calls a patient back into an intake room.

Creates a room, dispatches the agent into it with the room config (default: the intake on
the worker's default pipeline), then asks LiveKit's SIP service to dial the number through an
outbound trunk (``CreateSIPParticipant``). The agent waits until the patient picks up
(``sip.callStatus`` becomes ``active``) before it speaks. Uses ``LIVEKIT_URL``,
``LIVEKIT_API_KEY`` and ``LIVEKIT_API_SECRET``; the number is printed only masked.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets

from .privacy import pseudonym
from .rooms import call_out, create_room, dispatch
from .settings import DEFAULT_AGENT_NAME


async def dial(args: argparse.Namespace) -> str:
    url = os.environ.get("LIVEKIT_URL") or "ws://127.0.0.1:7880"
    key = os.environ.get("LIVEKIT_API_KEY") or ""
    secret = os.environ.get("LIVEKIT_API_SECRET") or ""
    agent = os.environ.get("LIVEKIT_AGENT_NAME") or DEFAULT_AGENT_NAME
    room = args.room or f"intake-callback-{secrets.token_hex(4)}"
    await create_room(url, key, secret, room)
    await dispatch(url, key, secret, room, agent, args.config)
    info = await call_out(url, key, secret, room, args.trunk, args.to)
    print(json.dumps({"room": room, "sip_call_id": info.sip_call_id, "callee": pseudonym(args.to)}))
    return room


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m agent dial", description=__doc__)
    parser.add_argument("--to", required=True, help="the patient's number, E.164 (+15551234567)")
    parser.add_argument("--trunk", required=True, help="the outbound SIP trunk's id (ST_...)")
    parser.add_argument("--room", default="", help="room name; default: a new random one")
    parser.add_argument("--config", default=json.dumps({"mode": "intake"}), help="room config JSON")
    asyncio.run(dial(parser.parse_args(argv)))
    return 0
