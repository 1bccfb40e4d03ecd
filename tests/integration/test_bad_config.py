"""A room with a bad config learns why through ``parley.error``; the worker keeps serving."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stack.fakes import FakeProviders
from stack.livekit_server import LiveKitServer
from stack.process import free_port
from stack.rooms import joined_room
from stack.worker import WorkerProcess, start_worker

from .rooms import worker_env
from .test_conversation import PIPELINES, converse

CASCADE_GOOGLE_TTS = {
    "pipeline": {"kind": "cascade", "tts": {"provider": "google"}},
}

# dispatch metadata → (code, field) the room must be told
BAD_CONFIGS: dict[str, tuple[str, str, str]] = {
    "malformed-json": ('{"mode": "assistant",', "malformed_json", ""),
    "unknown-mode": ('{"mode": "karaoke"}', "unknown_mode", "mode"),
    # Refused by the intake mode itself, through the same table as the others.
    "unknown-questionnaire": (
        '{"mode": "intake", "intake": {"questionnaire": "no-such-form"}}',
        "invalid_value",
        "intake.questionnaire",
    ),
    "intake-webhook-to-metadata": (
        '{"mode": "intake", "intake": {"webhook_url": "http://169.254.169.254/latest"}}',
        "invalid_value",
        "intake.webhook_url",
    ),
    "unknown-provider": (
        '{"pipeline": {"kind": "realtime", "provider": "azure"}}',
        "unknown_provider",
        "pipeline.provider",
    ),
    "wrong-type": (
        '{"turn_taking": {"endpointing": {"min_delay": "soon"}}}',
        "invalid_value",
        "turn_taking.endpointing.min_delay",
    ),
    "missing-credentials": (
        json.dumps(CASCADE_GOOGLE_TTS),
        "missing_credentials",
        "pipeline.tts.provider",
    ),
    "meeting-wake-name": (
        '{"mode": "meeting", "meeting": {"wake_name": "R2-D2!"}}',
        "invalid_value",
        "meeting.wake_name",
    ),
    "meeting-notes-dir": (
        # A room picks a sub-folder name of the worker's data directory, never a path.
        '{"mode": "meeting", "pipeline": {"kind": "realtime", "provider": "openai"}, '
        '"meeting": {"notes_dir": "/etc/hostname/notes"}}',
        "invalid_value",
        "meeting.notes_dir",
    ),
    "meeting-webhook-metadata": (
        # A room config must not make the worker call its cloud's metadata service.
        '{"mode": "meeting", "pipeline": {"kind": "realtime", "provider": "openai"}, '
        '"meeting": {"webhook_url": "http://169.254.169.254/latest/meta-data/"}}',
        "invalid_value",
        "meeting.webhook_url",
    ),
    "meeting-notes-dir-up": (
        '{"mode": "meeting", "pipeline": {"kind": "realtime", "provider": "openai"}, '
        '"meeting": {"notes_dir": "../../escape"}}',
        "invalid_value",
        "meeting.notes_dir",
    ),
}


async def read_error(user: Any) -> dict[str, str]:
    return dict(json.loads(await user.wait_for_agent_attribute("parley.error", timeout=30)))


@pytest.mark.parametrize("case", list(BAD_CONFIGS))
async def test_bad_config_is_reported_to_the_room(
    case: str, livekit_server: LiveKitServer, worker: WorkerProcess
) -> None:
    metadata, code, field = BAD_CONFIGS[case]
    async with joined_room(
        livekit_server, worker.agent_name, dispatch_metadata=metadata, prefix=case
    ) as user:
        error = await read_error(user)
        assert (error["code"], error["field"]) == (code, field), error
        assert error["message"]
        assert str(worker.data_dir) not in error["message"], error  # worker paths stay out
        # The agent leaves after the grace period instead of lingering silently.
        for _ in range(100):
            if user.agent() is None:
                break
            await asyncio.sleep(0.1)
        assert user.agent() is None, "the agent stayed in the room after reporting the error"
    assert worker.process.proc.poll() is None, "the worker died"
    log = worker.process.log_text()
    assert f'"{code}' in log or f" {code} " in log


async def test_bad_room_and_good_room_at_once(
    livekit_server: LiveKitServer,
    fakes: FakeProviders,
    worker: WorkerProcess,
    recording: Path,
) -> None:
    good_config, _ = PIPELINES["openai-realtime"]
    async with (
        joined_room(
            livekit_server, worker.agent_name, dispatch_metadata="{nope", prefix="bad"
        ) as bad,
        joined_room(
            livekit_server, worker.agent_name, dispatch_metadata=good_config, prefix="good"
        ) as good,
    ):
        error, v2v = await asyncio.gather(read_error(bad), converse(good, recording))
        assert error["code"] == "malformed_json"
        assert v2v < 10


@pytest.fixture(scope="module")
def offline_worker(
    livekit_server: LiveKitServer, fakes: FakeProviders, log_dir: Path
) -> Iterator[WorkerProcess]:
    """A second worker with no OpenAI key and a Gemini endpoint where nothing listens."""
    env = worker_env(
        livekit_server,
        fakes,
        OPENAI_API_KEY="",
        GOOGLE_GEMINI_BASE_URL=f"https://127.0.0.1:{free_port()}",
        PARLEY_ERROR_GRACE_S="1",
        PARLEY_IDLE_PROCESSES="1",
    )
    process = start_worker(log_dir, env, agent_name="parley-broken-env")
    yield process
    process.stop()


@pytest.mark.parametrize(
    ("config", "code", "message_part"),
    [
        (PIPELINES["openai-realtime"][0], "missing_credentials", "OPENAI_API_KEY"),
        (PIPELINES["google-realtime"][0], "provider_unreachable", "GOOGLE_GEMINI_BASE_URL"),
    ],
    ids=["missing-openai-key", "unreachable-gemini"],
)
async def test_provider_problems_are_reported(
    config: dict[str, Any],
    code: str,
    message_part: str,
    livekit_server: LiveKitServer,
    offline_worker: WorkerProcess,
) -> None:
    async with joined_room(
        livekit_server, offline_worker.agent_name, dispatch_metadata=config, prefix=code
    ) as user:
        error = await read_error(user)
    assert error["code"] == code and error["field"] == "pipeline.provider", error
    assert message_part in error["message"]
    # Where the worker's endpoints are stays in the worker log.
    assert "127.0.0.1" not in error["message"], error
