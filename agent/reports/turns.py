"""Per-turn timing: where the silence between the user's last word and the agent's voice went.

An observer of the session's conversation items: it reads the metrics livekit-agents already
attaches to each message, logs them and publishes them as the agent's ``parley.turn``
attribute for clients and benchmarks. Numbers only: no transcript text leaves here.
"""

from __future__ import annotations

from livekit import rtc
from livekit.agents import AgentSession
from livekit.agents.voice.events import ConversationItemAddedEvent
from pydantic import BaseModel

from .publish import publish

TURN_ATTRIBUTE = "parley.turn"


class TurnTiming(BaseModel):
    """Seconds; None when the pipeline has no such stage (realtime models have no STT)."""

    transcription_delay: float | None = None
    """End of user speech → final transcript."""
    end_of_turn_delay: float | None = None
    """End of user speech → the turn was judged over."""
    llm_ttft: float | None = None
    """LLM request → first token."""
    llm_ttfs: float | None = None
    """LLM request → first sentence handed to the TTS."""
    tts_ttfb: float | None = None
    """First text to the TTS → first audio."""
    e2e_latency: float | None = None
    """End of user speech → first agent audio frame leaves the worker."""


def watch_turns(session: AgentSession[None], room: rtc.Room) -> None:
    pending: dict[str, float | None] = {}

    def on_item(ev: ConversationItemAddedEvent) -> None:
        item = ev.item
        if item.type != "message":
            return
        metrics = item.metrics
        if item.role == "user":
            pending["transcription_delay"] = metrics.get("transcription_delay")
            pending["end_of_turn_delay"] = metrics.get("end_of_turn_delay")
            return
        if item.role != "assistant" or "e2e_latency" not in metrics:
            return  # greetings and other replies no user turn started
        timing = TurnTiming(
            **pending,
            llm_ttft=metrics.get("llm_node_ttft"),
            llm_ttfs=metrics.get("llm_node_ttfs"),
            tts_ttfb=metrics.get("tts_node_ttfb"),
            e2e_latency=metrics.get("e2e_latency"),
        )
        pending.clear()
        publish(room, TURN_ATTRIBUTE, timing)

    session.on("conversation_item_added", on_item)
