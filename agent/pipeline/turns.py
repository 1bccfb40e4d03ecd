"""Turn-taking presets: livekit-agents' endpointing and interruption values per kind of room.

A preset only sets values livekit-agents already has (silero VAD and the local end-of-turn
model stay as they are); a room's explicit ``endpointing`` / ``interruption`` fields override
the preset's one by one. Values are starting points to be measured with
``python -m agent eval turns``, not tuned constants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from livekit.agents.voice.turn import EndpointingOptions, InterruptionOptions

from ..config.models import Detection, EarlyStart, EndOfTurnModel, TurnPreset, TurnTaking


class Preset(TypedDict, total=False):
    endpointing: EndpointingOptions
    interruption: InterruptionOptions
    listening: Listening


@dataclass(frozen=True)
class Listening:
    """Parley's own machinery around livekit-agents' (``python -m agent eval turns`` chose
    it on the corpus' tuning part): which end-of-turn model, noise suppression ahead of the
    listeners, a VAD that follows the noise floor, and the dead-air guard."""

    end_of_turn: EndOfTurnModel = "livekit"
    noise_suppression: bool = False
    adaptive_vad: bool = False
    dead_air: float | None = None
    vad_silence: float | None = None
    """silero's ``min_silence_duration`` for the room (its own default: 0.55 s)."""
    detection: Detection = "provider"
    """Who ends a realtime pipeline's turns (a cascade's are always the worker's)."""
    preemptive: EarlyStart = "llm"
    """A cascade's early start (livekit-agents' default: the language model only)."""


STOCK = Listening()
# Chosen on the turn corpus' tuning part (docs/turn-taking.md): both end-of-turn models, the
# level gate and the dead-air guard; noise suppression and a shorter VAD silence lost there.
TUNED = Listening(end_of_turn="both", adaptive_vad=True, dead_air=1.5)


PRESETS: dict[TurnPreset, Preset] = {
    "livekit-default": {},
    # Quick answers, but a pause before the next words is not an end. Barge-in pauses the
    # agent after 0.15 s of speech; a backchannel then resumes it half a second after it ends.
    "conversation": {
        "endpointing": {"min_delay": 0.4, "max_delay": 2.5},
        "interruption": {"min_duration": 0.15, "false_interruption_timeout": 0.5},
        "listening": TUNED,
    },
    # A line's clicks and coughs are short: 0.3 s of speech before the agent pauses.
    "telephony": {
        "endpointing": {"min_delay": 0.6, "max_delay": 2.8},
        "interruption": {"min_duration": 0.3, "false_interruption_timeout": 0.6},
        "listening": TUNED,
    },
    # Several people: the agent answers only when addressed, and others talk among themselves
    # (what they say to each other must not cut the agent off).
    "meeting": {
        "endpointing": {"min_delay": 0.5, "max_delay": 2.8},
        "interruption": {"min_duration": 0.8, "min_words": 3},
        "listening": TUNED,
    },
    # Patients think before answering: an unfinished sentence gets the longest wait that
    # still answers within 3 s; a finished one is answered as quickly as livekit's default.
    "intake": {
        "endpointing": {"min_delay": 0.5, "max_delay": 2.8},
        "interruption": {"min_duration": 0.3, "false_interruption_timeout": 0.6},
        "listening": TUNED,
    },
}


def tuned(t: TurnTaking) -> bool:
    """One of Parley's presets, not livekit's stock values: the transcript completeness check
    holds unfinished sentences, and the agent keeps talking over "mm-hm" and coughs."""
    return t.preset != "livekit-default"


def turn_values(t: TurnTaking) -> tuple[EndpointingOptions, InterruptionOptions]:
    """The endpointing and interruption options: the preset's, then the room's own fields."""
    preset = PRESETS[t.preset]
    endpointing = EndpointingOptions(**preset.get("endpointing", {}))
    interruption = InterruptionOptions(**preset.get("interruption", {}))
    e, i = t.endpointing, t.interruption
    if e.min_delay is not None:
        endpointing["min_delay"] = e.min_delay
    if e.max_delay is not None:
        endpointing["max_delay"] = e.max_delay
    if i.enabled is not None:
        interruption["enabled"] = i.enabled
    if i.min_duration is not None:
        interruption["min_duration"] = i.min_duration
    if i.min_words is not None:
        interruption["min_words"] = i.min_words
    return endpointing, interruption


def listening(t: TurnTaking) -> Listening:
    """The preset's listening machinery, then the room's own fields."""
    base = PRESETS[t.preset].get("listening", STOCK)
    return Listening(
        end_of_turn=t.end_of_turn or base.end_of_turn,
        noise_suppression=(
            base.noise_suppression if t.noise_suppression is None else t.noise_suppression
        ),
        adaptive_vad=base.adaptive_vad if t.adaptive_vad is None else t.adaptive_vad,
        dead_air=base.dead_air if t.dead_air is None else (t.dead_air or None),
        vad_silence=t.endpointing.vad_silence or base.vad_silence,
        detection=t.detection or base.detection,
        preemptive=t.preemptive or base.preemptive,
    )
