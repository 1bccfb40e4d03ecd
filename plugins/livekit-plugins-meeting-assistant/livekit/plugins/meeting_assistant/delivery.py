"""Where the notes go besides the room: files in a directory, and a webhook (sent by
``livekit-plugins-webhook`` under the policy the application gives)."""

from __future__ import annotations

import json
from pathlib import Path

from livekit.plugins import webhook
from livekit.plugins.participants import write_private
from livekit.plugins.webhook import Delivery

from .log import logger
from .notes import Notes


def write_files(stem: Path, notes: Notes) -> Delivery:
    """``<stem>.notes.md`` and ``<stem>.notes.json``, readable by this user only."""
    try:
        write_private(stem.with_name(f"{stem.name}.notes.md"), notes.markdown())
        write_private(stem.with_name(f"{stem.name}.notes.json"), notes.model_dump_json(indent=2))
    except OSError as e:  # where and why stay in the log: a room sees the status
        logger.warning("notes not written to %s: %s", stem.parent, e.strerror)
        return Delivery(target="files", ok=False, attempts=1, error="not written")
    return Delivery(target="files", ok=True, attempts=1)


async def post_notes(url: str, notes: Notes, policy: webhook.WebhookPolicy) -> Delivery:
    """The notes as JSON, with their Markdown, to the webhook."""
    body = json.loads(notes.model_dump_json())
    body["markdown"] = notes.markdown()
    return await webhook.post(url, body, policy)
