"""Backchannels over the agent's speech ("mm-hm", "okay", a cough) do not take the turn.

livekit-agents pauses the agent's audio as soon as the VAD hears ``min_duration`` of user
speech, and a final transcript then interrupts the paused reply, which makes the agent answer
"okay". Its own backchannel classifier (adaptive interruption) runs only in LiveKit's cloud.
Here, while a reply is playing or paused, a transcript made only of backchannel words or of
non-speech (Whisper writes a cough as "(coughs)" or nothing) is dropped before the session
sees it: the pause then ends by livekit-agents' false-interruption resume, and the reply goes
on from where it stopped. Anything else passes, and the barge-in interrupts as before.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator

from livekit import rtc
from livekit.agents import Agent, ModelSettings, stt

BACKCHANNELS: dict[str, tuple[str, ...]] = {
    "en": (
        "mm", "mhm", "mmhmm", "mm-hm", "mm-hmm", "hm", "hmm", "uh-huh", "uh", "um", "ah",
        "oh", "yeah", "yes", "yep", "yup", "okay", "ok", "right", "sure", "alright",
        "all right", "i see", "got it", "cool", "nice", "great", "wow", "thanks", "thank you",
    ),
    "es": (
        "mm", "mhm", "ajá", "aja", "ah", "oh", "sí", "si", "vale", "claro", "ya", "bueno",
        "ok", "okay", "de acuerdo", "entiendo", "exacto", "gracias", "perfecto",
    ),
}  # fmt: skip
"""Words and phrases that, alone or together, only acknowledge the speaker (the language's
first two letters pick the list; unknown languages get English)."""

MAX_WORDS = 4
"""Longer acknowledgements ("yeah okay right sure thanks") are rare; a longer run of these
words is someone taking the turn."""

_NON_SPEECH = re.compile(r"\([^)]*\)|\[[^\]]*\]|\*[^*]*\*")
_WORD = re.compile(r"[\w'-]+")
_ALTERNATIVES = {  # longest first, so "all right" is one phrase and not "all" + "right"
    lang: "|".join(map(re.escape, sorted(ps, key=len, reverse=True)))
    for lang, ps in BACKCHANNELS.items()
}
_PATTERNS = {lang: re.compile(rf"(?:\b(?:{alt})\b\s*)+") for lang, alt in _ALTERNATIVES.items()}


def is_backchannel(text: str, language: str) -> bool:
    """Only acknowledgements, or nothing once non-speech annotations are removed."""
    spoken = " ".join(_WORD.findall(_NON_SPEECH.sub(" ", text).lower()))
    if not spoken:
        return True
    pattern = _PATTERNS.get(language[:2].lower(), _PATTERNS["en"])
    return len(spoken.split()) <= MAX_WORDS and pattern.fullmatch(spoken) is not None


def _over_agent_speech(agent: Agent) -> bool:
    """The agent's reply is playing, or paused by the user's speech and not yet interrupted."""
    speech = agent.session.current_speech
    return speech is not None and not speech.interrupted and not speech.done()


async def drop_backchannels(
    agent: Agent,
    events: AsyncIterable[stt.SpeechEvent | str],
    language: str,
) -> AsyncIterator[stt.SpeechEvent | str]:
    """The STT node's events, less the transcripts that only acknowledge the agent."""
    async for ev in events:
        if (
            isinstance(ev, stt.SpeechEvent)
            and ev.type
            in (stt.SpeechEventType.INTERIM_TRANSCRIPT, stt.SpeechEventType.FINAL_TRANSCRIPT)
            and ev.alternatives
            and _over_agent_speech(agent)
            and is_backchannel(ev.alternatives[0].text, language)
        ):
            continue
        yield ev


class BackchannelTolerant(Agent):
    """An agent whose replies a backchannel does not interrupt (see the module's docstring)."""

    backchannel_language: str | None = None
    """Set by the mode when the room's turn-taking preset asks for it; ``None``: stock."""

    def stt_node(
        self, audio: AsyncIterable[rtc.AudioFrame], model_settings: ModelSettings
    ) -> AsyncIterable[stt.SpeechEvent | str]:
        events = Agent.default.stt_node(self, audio, model_settings)
        if self.backchannel_language is None:
            return events
        return drop_backchannels(self, events, self.backchannel_language)
