"""Talking over the agent's reply, and what the user then hears: shared by the barge-in test
and ``scripts/bench barge_in``.

The user asks, waits until the reply has played for a second, then says something over it: a
real sentence (a barge-in: the agent must stop at once and drop the rest of the reply), a
backchannel ("mm-hm") or a cough (the reply must go on). Everything is timed at the client:
when our words left the microphone, and when the agent's audio reached us.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from fakes.audio import rms_dbfs

from .fakes import FakeProviders
from .participant import SAMPLE_RATE, SILENCE_DBFS, Participant
from .recordings import clip, cough, spoken

OverKind = Literal["barge-in", "backchannel", "cough", "none"]
"""``none``: nobody talks over the reply, to see its own pauses between sentences."""

REPLY = " ".join(["The budget stays as it is for the next quarter, as we agreed on Monday."] * 3)
"""What the fake model answers: long enough to be talked over (about 12 s at espeak's pace)."""
QUESTION = "vm-nobodyavail"
LISTEN_S = 3.0
"""How long after our last word we keep listening for the reply to resume or a new one."""
GAP_S = 0.3
"""Agent silence this long counts as its audio having stopped (espeak pauses less between
sentences, see the ``none`` runs)."""


def room_config(preset: str) -> dict[str, Any]:
    """Real recognition (Whisper) and voice (espeak-ng) around the OpenAI fake's model, so
    what the user says over the reply is really transcribed."""
    return {
        "mode": "assistant",
        "pipeline": {
            "kind": "cascade",
            "stt": {"provider": "offline"},
            "llm": {"provider": "openai"},
            "tts": {"provider": "offline"},
        },
        "turn_taking": {"preset": preset},
    }


OVER: dict[OverKind, tuple[str, ...]] = {
    # First: livekit-agents ignores barge-in during the first 3 s of a session's first reply
    # (its AEC warm-up, so echo cannot cut the agent off), so that reply is not talked over.
    "none": ("",),
    "barge-in": tuple(
        f"asterisk:{n}"
        for n in ("privacy-unident", "pbx-invalid", "tt-weasels", "conf-getpin", "vm-theperson")
    ),
    "backchannel": (
        "piper:Mm-hm.",
        "piper:Okay.",
        "piper:Yeah.",
        "piper:Right.",
        "asterisk:auth-thankyou",
    ),
    "cough": ("synthetic:cough",),
}
"""What is said over the reply: a real recording (asterisk prompt) where one exists, else the
Piper voice; the cough is synthesized (no package carries a recorded one)."""


def over_audio(said: str) -> Path | None:
    source, _, what = said.partition(":")
    if source == "asterisk":
        return clip(what)
    if source == "piper":
        return spoken(what)
    if source == "synthetic":
        return cough()
    return None


class OverTalk(BaseModel):
    kind: OverKind
    said: str
    talk_s: float
    """How long we talked over the reply."""
    stopped_after_s: float | None
    """From our first word to the agent's last sound before a silence (``GAP_S``); ``None``
    when the agent kept talking through all we said."""
    longest_silence_s: float
    """The longest silence in the agent's audio from our first word to ``LISTEN_S`` after
    our last (the reply's own pauses, or a pause it resumed from)."""
    played_while_talking_s: float
    """Agent audio we heard after it stopped and before our last word: queued audio that
    should have been dropped (for a barge-in)."""
    resumed: bool
    """The agent's audio came back within ``LISTEN_S`` of our last word."""
    new_replies: int
    """Model requests made after we started talking: 1 for an answered barge-in, 0 for a
    backchannel the agent talked over."""


def _chat_requests(fakes: FakeProviders) -> int:
    return sum(1 for r in fakes.received() if r.get("kind") == "chat.completions")


def _sounds_between(user: Participant, start: float, end: float) -> list[float]:
    return [t for t in user.agent_sound_times if start <= t <= end]


def _sound_seconds(user: Participant, start: float, end: float) -> float:
    loud = [s.size for t, s in user.agent_frames if start < t <= end and rms_dbfs(s) > SILENCE_DBFS]
    return sum(loud) / SAMPLE_RATE


async def talk_over(
    user: Participant,
    fakes: FakeProviders,
    kind: OverKind,
    said: str,
    timeout: float = 60.0,
) -> OverTalk:
    """One exchange: ask, let the reply play 1 s, talk over it, listen, then wait until the
    agent is done and listening again."""
    await user.wait_for_agent_state("listening", timeout)
    await user.speak(clip(QUESTION))
    await user.wait_for_agent_sound(timeout)
    await asyncio.sleep(1.0)
    asked = _chat_requests(fakes)
    audio = over_audio(said)
    if audio is None:
        start = end = time.monotonic()
    else:
        await user.speak(audio)
        assert user.speech_start is not None and user.speech_end is not None
        start, end = user.speech_start, user.speech_end
    await asyncio.sleep(LISTEN_S)
    heard = _sounds_between(user, start, end + LISTEN_S)
    bounds = [start, *heard, end + LISTEN_S]
    stopped = next((t for t, after in itertools.pairwise(bounds[1:]) if after - t >= GAP_S), None)
    result = OverTalk(
        kind=kind,
        said=said,
        talk_s=end - start,
        stopped_after_s=stopped - start if stopped is not None and stopped < end else None,
        longest_silence_s=max(b - a for a, b in itertools.pairwise(bounds)),
        played_while_talking_s=_sound_seconds(user, (stopped or end) + GAP_S, end),
        resumed=bool(_sounds_between(user, end + 0.05, end + LISTEN_S)),
        new_replies=_chat_requests(fakes) - asked,
    )
    await user.wait_for_agent_state("listening", timeout)
    return result
