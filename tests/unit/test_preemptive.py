"""The early-start tally: a reply that ends without being scheduled was thrown away, and
what its requests used is priced at the room's prices; a reply that played costs nothing
here (it is the answer)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from livekit.agents import AgentSession, utils
from livekit.agents.metrics import LLMMetrics
from livekit.agents.metrics.base import Metadata
from livekit.agents.voice.events import MetricsCollectedEvent, SpeechCreatedEvent
from livekit.agents.voice.speech_handle import SpeechHandle

from agent.config import Layer, resolve
from agent.reports.preemptive import PreemptiveTally

CASCADE = (
    '{"pipeline":{"kind":"cascade","stt":{"provider":"openai"},"llm":{"provider":"openai"},'
    '"tts":{"provider":"openai"}}}'
)


def request(speech: SpeechHandle, prompt: int, completion: int) -> MetricsCollectedEvent:
    return MetricsCollectedEvent(
        metrics=LLMMetrics(
            label="openai.LLM", request_id=speech.id, timestamp=0.0, duration=0.1, ttft=0.05,
            cancelled=prompt == 0, completion_tokens=completion, prompt_tokens=prompt,
            prompt_cached_tokens=0, total_tokens=prompt + completion, tokens_per_second=10.0,
            speech_id=speech.id,
            metadata=Metadata(model_name="gpt-4.1-mini", model_provider="api.openai.com"),
        )
    )  # fmt: skip


async def test_discarded_replies_are_counted_and_priced() -> None:
    session: Any = utils.EventEmitter[Any]()
    config = resolve([Layer("room metadata", CASCADE)])
    tally = PreemptiveTally(cast(AgentSession[None], session), config)
    stale, unreported, answer = (SpeechHandle.create() for _ in range(3))
    for speech in (stale, unreported, answer):
        created = SpeechCreatedEvent(
            speech_handle=speech, user_initiated=False, source="generate_reply"
        )
        session.emit("speech_created", created)
    session.emit("metrics_collected", request(stale, 1000, 20))
    session.emit("metrics_collected", request(answer, 1000, 40))
    stale._mark_done()
    unreported._mark_done()
    answer._mark_scheduled()
    answer._mark_done()
    await asyncio.sleep(0)  # done callbacks run on the loop
    session.emit("metrics_collected", request(unreported, 0, 0))  # after its end

    early = tally.result(duration_s=60)
    assert early.discarded_replies == 2 and early.llm_requests == 2, early
    assert early.unreported_requests == 1
    assert early.cost is not None and [line.stage for line in early.cost.lines] == ["llm"]
    line = early.cost.lines[0]
    assert line.quantity == {"text_in": 1000, "text_out": 20}
    prices = config.prices.openai.llm
    assert line.dollars == pytest.approx((1000 * prices.text_in + 20 * prices.text_out) / 1e6)
