"""What starting the answer early cost: replies generated before the user's turn was judged
over, then thrown away because the user went on (livekit-agents' preemptive generation in a
cascade, :mod:`agent.pipeline.early` in a realtime room whose turns the worker ends).

An observer. Every reply is a speech handle (``speech_created``); a preemptive one that is
adopted gets scheduled and played, a discarded one ends without ever being scheduled. The
metrics livekit-agents emits for each request carry the handle's id, so the discarded
replies' tokens (and voice, with ``preemptive: llm-tts``) are priced like any other usage.
They are already part of the session's total: this says how much of it was spent early.
A realtime room's early answers are one response each, their usage what the provider reported
when it ended them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from livekit.agents import AgentSession, metrics
from livekit.agents.metrics.usage import ModelUsageCollector
from livekit.agents.voice.events import MetricsCollectedEvent, SpeechCreatedEvent
from livekit.agents.voice.speech_handle import SpeechHandle
from pydantic import BaseModel

from ..config.models import RoomConfig
from .cost import Cost, session_cost


class Preemptive(BaseModel):
    discarded_replies: int = 0
    """Replies started before the end of the turn and cancelled: the user went on."""
    llm_requests: int = 0
    """Their language-model requests."""
    unreported_requests: int = 0
    """Of those, cancelled before the provider reported usage: a hosted provider may still
    bill their prompt, which is then missing from ``cost``."""
    cost: Cost | None = None
    """Their usage at the room's prices (part of the session's total cost)."""


class PreemptiveTally:
    def __init__(self, session: AgentSession[None], config: RoomConfig) -> None:
        self._config = config
        self._discarded: list[str] = []
        # Metrics may come before or after their reply ends: keep them all by reply.
        self._metrics: defaultdict[str, list[metrics.AgentMetrics]] = defaultdict(list)
        session.on("speech_created", self._on_speech)
        session.on("metrics_collected", self._on_metrics)

    def _on_speech(self, ev: SpeechCreatedEvent) -> None:
        def ended(handle: SpeechHandle) -> None:
            if not handle.scheduled:
                self._discarded.append(handle.id)

        ev.speech_handle.add_done_callback(ended)

    def _on_metrics(self, ev: MetricsCollectedEvent) -> None:
        speech_id = getattr(ev.metrics, "speech_id", None)
        if speech_id is not None:
            self._metrics[speech_id].append(ev.metrics)

    def result(self, duration_s: float) -> Preemptive:
        requests = [m for sid in self._discarded for m in self._metrics.get(sid, [])]
        llm = [m for m in requests if isinstance(m, metrics.LLMMetrics)]
        unreported = sum(m.prompt_tokens == 0 for m in llm)
        return _priced(
            len(self._discarded), requests, len(llm), unreported, self._config, duration_s
        )


class EarlyTally:
    """A realtime room's early answers: ``discarded`` is the model's list, filled as it
    throws them away."""

    def __init__(self, discarded: list[metrics.RealtimeModelMetrics], config: RoomConfig) -> None:
        self._discarded, self._config = discarded, config

    def result(self, duration_s: float) -> Preemptive:
        d = self._discarded
        unreported = sum(m.input_tokens == 0 for m in d)
        return _priced(len(d), d, len(d), unreported, self._config, duration_s)


def _priced(
    replies: int,
    requests: Sequence[metrics.AgentMetrics],
    llm_requests: int,
    unreported: int,
    config: RoomConfig,
    duration_s: float,
) -> Preemptive:
    usage = ModelUsageCollector()
    for m in requests:
        usage.collect(m)
    return Preemptive(
        discarded_replies=replies,
        llm_requests=llm_requests,
        unreported_requests=unreported,
        cost=session_cost(usage.flatten(), config, duration_s),
    )
