"""No user data in Parley's logs: livekit-agents attaches transcripts and identities to some
log records as ``lk.pii.*`` extras (e.g. the text of a skipped user turn), which the JSON log
formatter writes out. Telemedicine rooms must not leave them on disk."""

from __future__ import annotations

import logging

PII_PREFIX = "lk.pii."


class DropPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key in [k for k in record.__dict__ if k.startswith(PII_PREFIX)]:
            del record.__dict__[key]
        return True


def drop_personal_data(logger_names: tuple[str, ...] = ("livekit", "livekit.agents")) -> None:
    """Installs the filter on the loggers that attach such extras (idempotent)."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, DropPersonalData) for f in logger.filters):
            logger.addFilter(DropPersonalData())
