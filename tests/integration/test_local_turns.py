"""A realtime room whose turns the worker ends itself (``turn_taking.detection: local``),
through the real server: the provider's own turn detection is off, the worker commits the
user's audio and asks for the answer, and the answer is heard. On OpenAI the answer starts
early, at the VAD's first short silence: it is the reply, or, when the user goes on, it is
cancelled unheard and priced in the session report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stack.fakes import FakeProviders
from stack.livekit_server import LiveKitServer
from stack.participant import wait_for
from stack.recordings import clip, paused
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
    if provider == "openai":  # an early answer was the reply, asked for once (one before it
        # is thrown away where the clip pauses 0.15 s), and what was heard after it started
        # (silence) is cleared at the worker's end of turn, not committed
        kinds = [e["kind"] for e in received if e["kind"].startswith("realtime.")]
        replies = [(e["trigger"], e["status"]) for e in received if e["kind"] == "realtime.turn"]
        assert replies[-1] == ("client", "completed"), replies
        assert set(replies[:-1]) <= {("client", "cancelled")}, replies
        assert kinds.count("realtime.commit") == len(replies), kinds
        last_commit = len(kinds) - 1 - kinds[::-1].index("realtime.commit")
        assert "realtime.clear" in kinds[last_commit:], kinds


async def test_an_early_answer_the_user_talks_on_from_is_thrown_away(
    livekit_server: LiveKitServer, fakes: FakeProviders, worker: WorkerProcess, recording: Path
) -> None:
    """A 0.45 s pause: long enough for the early answer's silence (0.15 s), shorter than the
    session's (0.55 s) that the end of turn waits for."""
    before = len(fakes.received())
    async with joined_room(
        livekit_server, worker.agent_name, dispatch_metadata=_local_room("openai"),
        prefix="early-openai",
    ) as user:  # fmt: skip
        reports = user.watch("parley.report")
        await converse(user, paused(recording, 0.45, clip("agent-pass")), reports=False)

        def thrown_away() -> list[dict[str, Any]]:
            sent = [json.loads(t.text) for t in reports if t.text]
            return [r["preemptive"] for r in sent if (r.get("preemptive") or {}).get("discarded_replies")]  # noqa: E501  # fmt: skip

        await wait_for(thrown_away, "a discarded early answer in parley.report")
        early = thrown_away()[-1]
    received = [e for e in fakes.received()[before:] if e["provider"] == "openai"]
    replies = [(r["trigger"], r["status"]) for r in received if r["kind"] == "realtime.turn"]
    assert len(replies) >= 2 and replies[-1] == ("client", "completed"), replies
    assert early["llm_requests"] == early["discarded_replies"], early
    assert early["cost"]["total_dollars"] > 0, early
