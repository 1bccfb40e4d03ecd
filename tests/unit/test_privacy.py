"""Personal data never reaches a log line, whichever logger writes it; sessions are not
recorded unless the room config asks."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace
from typing import Any

from agent.config import RoomConfig
from agent.modes import RoomContext
from agent.modes.session import start
from agent.privacy import pseudonym
from agent.settings import WorkerSettings

# Through livekit-agents' own production log set-up (JSON lines on stdout), then Parley's
# filter, then records with personal data on several livekit.* loggers, at DEBUG.
LOGS = """
import logging
from livekit.agents.cli.log import setup_logging
from agent.privacy import drop_personal_data
setup_logging("DEBUG", devmode=False, console=False)
drop_personal_data()
for name in ("livekit.plugins.google", "livekit.plugins.openai", "livekit.agents.voice",
             "livekit", "parley", "some.other.library"):
    logging.getLogger(name).setLevel(logging.DEBUG)  # as with a worker run at debug level
    logging.getLogger(name).debug("turn skipped", extra={
        "lk.pii.content": "my chest hurts", "lk.pii.user_input": "born 1970-01-02",
        "room": "intake-jane-doe", "participant": "jane.doe", "turns": 3})
"""


def test_no_transcript_or_identity_in_any_logger_output() -> None:
    out = subprocess.run(
        [sys.executable, "-c", LOGS], capture_output=True, text=True, check=True
    ).stdout
    lines = [line for line in out.splitlines() if "turn skipped" in line]
    assert len(lines) == 6, out
    for line in lines:
        assert "chest" not in line and "1970" not in line, line
        assert "jane" not in line, line
        assert pseudonym("intake-jane-doe") in line and '"turns": 3' in line, line


def test_pseudonyms_are_stable_and_do_not_show_the_name() -> None:
    assert pseudonym("intake-42") == pseudonym("intake-42") != pseudonym("intake-43")
    assert "intake" not in pseudonym("intake-42")


class FakeSession:
    def __init__(self) -> None:
        self.started: dict[str, Any] = {}

    async def start(self, **kwargs: Any) -> None:
        self.started = kwargs


async def test_sessions_are_not_recorded_unless_the_room_asks() -> None:
    job: Any = SimpleNamespace(room=None)
    for config, recorded in (({}, False), ({"record": True}, True)):
        room = RoomContext(job, RoomConfig.model_validate(config), WorkerSettings.from_env(), job)
        session: Any = FakeSession()
        await start(room, session, agent=job)
        assert session.started["record"] is recorded
