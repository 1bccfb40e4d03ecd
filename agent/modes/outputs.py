"""Where a mode's outputs go: a folder under the worker's data directory, checked writable
when the room starts, and the room's webhook under the worker's rules."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from livekit.plugins import participants, webhook

from ..config.errors import ErrorCode, ParleyError
from ..settings import WorkerSettings

logger = logging.getLogger("parley")


def writable_folder(directory: Path, what: str) -> Path:
    """``directory``, private to the worker, checked writable now: a room must not find out
    at its end. Where it is stays in the worker log; the room learns ``internal_error``."""
    try:
        participants.private_dir(directory)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as e:
        logger.warning("the folder %s cannot be written: %s", directory, e.strerror)
        raise ParleyError(
            ErrorCode.INTERNAL_ERROR,
            "",
            f"the worker cannot write {what} (its data directory is not writable): the "
            "worker log says why; ask the operator to fix PARLEY_DATA_DIR.",
        ) from None
    return directory


def webhook_policy(
    settings: WorkerSettings, url: str | None, field: str
) -> webhook.WebhookPolicy | None:
    """The worker's rules for the room's webhook; a URL they refuse is the room's error."""
    if url is None:
        return None
    if settings.webhook_secret is None:
        raise ParleyError(
            ErrorCode.MISSING_CREDENTIALS,
            field,
            f"{field} needs the worker to sign its requests, but PARLEY_WEBHOOK_SECRET is not "
            "set on the worker: set it, or leave the webhook out.",
        )
    policy = webhook.WebhookPolicy(
        secret=settings.webhook_secret.encode(), allow_hosts=settings.webhook_allow_hosts
    )
    if (why := policy.refusal(url)) is not None:
        raise ParleyError(ErrorCode.INVALID_VALUE, field, f"{field} is refused: {why}.")
    return policy
