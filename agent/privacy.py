"""No user data in Parley's logs.

livekit-agents attaches transcripts to some log records as ``lk.pii.*`` extras (the text of a
skipped user turn; the Google realtime plugin logs ``lk.pii.content``), and the job's room
name and participants' identities as ``room`` / ``participant`` extras; its JSON formatter
writes them all out. Room names and identities can name a patient. Python runs a logger's
filters only for records logged on that very logger, so the filter sits on the handlers,
which every record of every logger passes: it drops ``lk.pii.*`` and replaces identities with
a pseudonym (``pseudonym()``: the same name always gives the same one, so an operator can
still follow one room through the log). A phone caller's number is replaced wherever it
appears in a message: numbers written as E.164 (``+`` and 7 to 15 digits), and the values a
mode names with ``keep_out_of_logs`` (the number as the carrier sent it, identities built
from it).
"""

from __future__ import annotations

import hashlib
import logging
import re

PII_PREFIX = "lk.pii."
IDENTITY_FIELDS = ("room", "participant", "participant_identity", "identity", "speaker")
"""Extras that name a room or a person."""
_PSEUDONYM = re.compile(r"^id-[0-9a-f]{12}$")
"""A job's records pass the filter twice (in the job, then in the worker, which adds the
room again): a value already replaced stays as it is."""


_E164 = re.compile(r"\+[0-9]{7,15}")
_kept_out: set[str] = set()


def pseudonym(value: str) -> str:
    """What logs show instead of a room name or an identity."""
    return "id-" + hashlib.sha256(value.encode()).hexdigest()[:12]


def keep_out_of_logs(value: str) -> None:
    """From now on this process's log messages and ``scrub`` show ``value`` replaced."""
    _kept_out.add(value)


def scrub(text: str) -> str:
    """``text`` with phone numbers and the values kept out of logs replaced by pseudonyms
    (longest first: an identity holds the number)."""
    for value in sorted((v for v in _kept_out if v in text), key=len, reverse=True):
        text = text.replace(value, pseudonym(value))
    return _E164.sub(lambda m: pseudonym(m.group()), text)


class DropPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        fields = record.__dict__
        for key in [k for k in fields if k.startswith(PII_PREFIX)]:
            del fields[key]
        for key in IDENTITY_FIELDS:
            value = fields.get(key)
            if isinstance(value, str) and not _PSEUDONYM.match(value):
                fields[key] = pseudonym(value)
        message = record.getMessage()
        if (scrubbed := scrub(message)) != message:
            record.msg, record.args = scrubbed, None
        return True


def drop_personal_data() -> None:
    """Installs the filter on every handler of the root logger (idempotent): call it once
    the process's logging is set up (livekit-agents does that in the worker and in each job
    process)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, DropPersonalData) for f in handler.filters):
            handler.addFilter(DropPersonalData())
