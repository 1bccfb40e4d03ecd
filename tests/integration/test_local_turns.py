"""A realtime room whose turns the worker ends itself (``turn_taking.detection: local``),
through the real server: the provider's own turn detection is off, the worker commits the
user's audio and asks for the answer, and the answer is heard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stack.fakes import FakeProviders
from stack.livekit_server import LiveKitServer
from stack.rooms import converse, joined_room
from stack.worker import WorkerProcess

from .rooms import MEASUREMENTS


def _local_room(provider: str) -> dict[str, Any]:
    return {
        "pipeline": {"kind": "realtime", "provider": provider},
        "turn_taking": {"preset": "conversation", "detection": "local"},
    }


def _turns_the_provider_ended(provider: str, received: list[dict[str, Any]]) -> int:
    if provider == "openai":
        return sum(e["kind"] == "realtime.speech_stopped" for e in received)
    return sum(e["kind"] == "live.turn" and e["source"] == "vad" for e in received)


def _turns_the_worker_ended(provider: str, received: list[dict[str, Any]]) -> int:
    if provider == "openai":  # a commit with no server VAD stop before it
        return sum(e["kind"] == "realtime.audio" for e in received)
    return sum(e["kind"] == "live.turn" and e["source"] == "activity" for e in received)


@pytest.mark.parametrize("provider", ["openai", "google"])
async def test_the_worker_ends_a_realtime_turn_and_the_answer_is_heard(
    provider: str,
    livekit_server: LiveKitServer,
    fakes: FakeProviders,
    worker: WorkerProcess,
    recording: Path,
) -> None:
    before = len(fakes.received())
    async with joined_room(
        livekit_server,
        worker.agent_name,
        dispatch_metadata=_local_room(provider),
        prefix=f"local-{provider}",
    ) as user:
        exchange = await converse(user, recording, reports=False)
    received = [e for e in fakes.received()[before:] if e["provider"] == provider]
    MEASUREMENTS.append(
        f"{provider} realtime, local end of turn: voice-to-voice {exchange.v2v_s * 1000:.0f} ms"
    )
    assert _turns_the_provider_ended(provider, received) == 0, received
    assert _turns_the_worker_ended(provider, received) >= 1, received
    assert exchange.v2v_s < 5.0
