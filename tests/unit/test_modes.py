"""The mode seam: one entry point per mode, found by the config's ``mode`` name; the one
place plugin refusals become room errors; the client protocol in one module."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any, get_args

import pytest

from agent import protocol
from agent.config import ErrorCode, ParleyError, RoomConfig
from agent.config.models import Mode
from agent.modes import MODES, RoomContext
from agent.settings import WorkerSettings

ROOT = Path(__file__).resolve().parents[2]


def room(config: dict[str, Any]) -> RoomContext:
    """A context with no job: enough for what a mode decides before it touches the room."""
    no_job: Any = None
    return RoomContext(no_job, RoomConfig.model_validate(config), WorkerSettings.from_env(), no_job)


def test_every_mode_of_the_schema_has_one_entry_point() -> None:
    assert set(MODES) == set(get_args(Mode))
    for name, run in MODES.items():
        assert inspect.iscoroutinefunction(run), name
        assert list(inspect.signature(run).parameters) == ["room"], name
        assert run.__module__ == f"agent.modes.{name}"


def test_worker_names_no_mode() -> None:
    worker = (ROOT / "agent" / "worker.py").read_text()
    for name in get_args(Mode):
        assert not re.search(rf"\b{name}\b", worker), name


@pytest.mark.parametrize(
    ("intake", "language", "field"),
    [
        ({"questionnaire": "no-such-form"}, "en", "intake.questionnaire"),
        ({}, "fr", "language"),  # the packaged questionnaire is English and Spanish
    ],
)
async def test_an_intake_the_worker_cannot_run_is_refused_through_the_table(
    intake: dict[str, Any], language: str, field: str
) -> None:
    with pytest.raises(ParleyError) as info:
        await MODES["intake"](room({"mode": "intake", "intake": intake, "language": language}))
    report = info.value.report
    assert (report.code, report.field) == (ErrorCode.INVALID_VALUE, field)
    assert len(report.message) > 20
    assert set(json.loads(report.to_attribute())) == {"code", "field", "message"}


def test_a_plugin_refusal_becomes_a_provider_error_on_the_field() -> None:
    with pytest.raises(ParleyError) as info, room({}).options_of("meeting"):
        raise ValueError("wake name must be letters")
    report = info.value.report
    assert (report.code, report.field) == (ErrorCode.PROVIDER_ERROR, "meeting")
    assert report.message == "wake name must be letters"


def test_client_protocol_names_are_unique_and_in_the_readme() -> None:
    names = [e.name for e in protocol.ENTRIES]
    assert len(names) == len(set(names)) and len(protocol.for_clients()) == len(names)
    assert protocol.markdown_table() in (ROOT / "README.md").read_text()


def test_plugins_know_nothing_of_parley() -> None:
    """Names a client reads are options of the plugins; Parley passes its own."""
    for path in (ROOT / "plugins").glob("*/livekit/plugins/**/*.py"):
        assert "parley" not in path.read_text().lower(), path


def test_the_page_retypes_no_protocol_name() -> None:
    page = (ROOT / "web" / "app.js").read_text()
    for e in protocol.ENTRIES:
        if e.kind != protocol.Kind.PARTICIPANT_ATTRIBUTE:  # "language" is also a form field
            assert f'"{e.name}' not in page, e.name
