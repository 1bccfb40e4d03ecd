"""The three pipelines end to end: real server, worker process, real plugins, fake providers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stack.fakes import FakeProviders
from stack.livekit_server import LiveKitServer
from stack.participant import Participant
from stack.rooms import USER, joined_room
from stack.worker import WorkerProcess

from .rooms import MEASUREMENTS

# Exactly the documents the spine issue says must be accepted as written.
PIPELINES: dict[str, tuple[dict[str, Any], str]] = {
    "openai-realtime": (
        {"mode": "assistant", "pipeline": {"kind": "realtime", "provider": "openai"}},
        "openai",
    ),
    "google-realtime": (
        {"mode": "assistant", "pipeline": {"kind": "realtime", "provider": "google"}},
        "google",
    ),
    "openai-cascade": (
        {
            "mode": "assistant",
            "pipeline": {
                "kind": "cascade",
                "stt": {"provider": "openai"},
                "llm": {"provider": "openai"},
                "tts": {"provider": "openai"},
            },
        },
        "openai",
    ),
}


async def converse(user: Participant, recording: Path) -> float:
    """Speaks once after the agent listens; returns the client-observed voice-to-voice time."""
    await user.wait_for_agent_state("listening")
    await user.speak(recording)
    return await user.wait_for_agent_sound(timeout=30)


@pytest.mark.parametrize("name", list(PIPELINES))
async def test_agent_answers_aloud_with_transcripts(
    name: str,
    livekit_server: LiveKitServer,
    fakes: FakeProviders,
    worker: WorkerProcess,
    recording: Path,
) -> None:
    config, provider = PIPELINES[name]
    before = len(fakes.received())
    async with joined_room(
        livekit_server, worker.agent_name, dispatch_metadata=config, prefix=name
    ) as user:
        v2v = await converse(user, recording)
        MEASUREMENTS.append(f"{name}: client-observed voice-to-voice {v2v * 1000:.0f} ms")

        user_lines = await user.wait_for_transcripts(lambda t: t.identity == USER and t.final)
        agent = user.agent()
        assert agent is not None
        agent_lines = await user.wait_for_transcripts(
            lambda t: t.identity == agent.identity and t.text.strip() != ""
        )
        assert user_lines[0].text.strip(), "the user's transcript is empty"
        assert any("fake provider" in t.text.lower() for t in agent_lines), agent_lines
        assert len(user.agent_sound_times) > 20, "the agent's audio was (nearly) silent"

    received = fakes.received()[before:]
    audio_ms = sum(e.get("audio_ms", 0) for e in received if e["provider"] == provider)
    assert audio_ms > 1000, f"the {provider} fake got {audio_ms} ms of user audio: {received}"
