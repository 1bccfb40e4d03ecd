"""Per-turn timing: where the silence between the user's last word and the agent's voice went.

Filled by the session recorder from the metrics livekit-agents attaches to each message, and
published as the agent attribute ``parley.turn``.
"""

from __future__ import annotations

from pydantic import BaseModel


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
    model_ttfb: float | None = None
    """Realtime: the model's response created → its first audio."""
    playback_latency: float | None = None
    """First audio frame forwarded → pushed to the room."""
    e2e_latency: float | None = None
    """End of user speech → first agent audio frame leaves the worker (livekit-agents; absent
    for realtime models, whose end of speech only the provider knows)."""
    response_delay: float | None = None
    """The user's turn judged over (for realtime: the provider's speech-stopped event) → first
    agent audio frame leaves the worker."""
    user_stopped_at: float | None = None
    """Unix time on the worker's clock the user's speech was taken as ended (the worker's
    VAD, or the provider's speech-stopped event)."""
    spoke_at: float | None = None
    """Unix time on the worker's clock the answer's first audio frame was pushed to the room:
    a client on the same clock times its own downlink from it."""
    interrupted: bool = False
    """The user talked over this reply and it stopped before its end: its answer, if any,
    is the next turn's."""
