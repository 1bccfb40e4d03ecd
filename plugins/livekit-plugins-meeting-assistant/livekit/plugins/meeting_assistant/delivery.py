"""Where the notes go besides the room: files in a directory, and a webhook."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from pydantic import BaseModel

from .log import logger
from .notes import Notes


class Delivery(BaseModel):
    target: str
    ok: bool
    attempts: int
    error: str | None = None


def _shown(url: str) -> str:
    """A webhook URL may carry a token in its query: reports show only where it points."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"


def file_stem(room: str) -> str:
    """A room name as a file name: anything but letters, digits, ``.-_`` becomes ``_``."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", room).lstrip(".") or "room"


def write_files(directory: Path, notes: Notes) -> Delivery:
    stem = file_stem(notes.room)
    try:
        (directory / f"{stem}.notes.md").write_text(notes.markdown(), encoding="utf-8")
        (directory / f"{stem}.notes.json").write_text(
            notes.model_dump_json(indent=2), encoding="utf-8"
        )
    except OSError as e:
        return Delivery(target=str(directory), ok=False, attempts=1, error=str(e))
    return Delivery(target=str(directory), ok=True, attempts=1)


async def post_webhook(
    url: str, notes: Notes, *, attempts: int = 3, timeout_s: float = 5.0, backoff_s: float = 0.5
) -> Delivery:
    """POSTs the notes as JSON; retries a timeout, a connection error or a 5xx answer."""
    body = json.loads(notes.model_dump_json())
    body["markdown"] = notes.markdown()
    error = ""
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        for attempt in range(1, attempts + 1):
            try:
                async with http.post(url, json=body) as resp:
                    if resp.status < 300:
                        return Delivery(target=_shown(url), ok=True, attempts=attempt)
                    error = f"HTTP {resp.status}"
                    if (
                        resp.status < 500
                    ):  # the receiver refused these notes: asking again won't help
                        break
            except (TimeoutError, aiohttp.ClientError) as e:
                error = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
            logger.warning("notes webhook attempt %d/%d failed: %s", attempt, attempts, error)
            if attempt < attempts:
                await asyncio.sleep(backoff_s * 2 ** (attempt - 1))
    return Delivery(target=_shown(url), ok=False, attempts=attempt, error=error)
