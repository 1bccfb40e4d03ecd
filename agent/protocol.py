"""The client protocol: every name a LiveKit client reads from (or sets for) a Parley agent.

One place for them: the worker, the modes and the plugins' options take the names from here,
the playground page gets them from its backend (``GET /api/options``), and the README's
"Client protocol" table is generated from ``ENTRIES`` (a test keeps it in step).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from livekit.agents.types import (
    ATTRIBUTE_AGENT_STATE,
    ATTRIBUTE_TRANSCRIPTION_FINAL,
    ATTRIBUTE_TRANSCRIPTION_SEGMENT_ID,
    ATTRIBUTE_TRANSCRIPTION_TRACK_ID,
    TOPIC_CHAT,
    TOPIC_TRANSCRIPTION,
)
from livekit.plugins.interpreter import TRACK_PREFIX


class Kind(StrEnum):
    AGENT_ATTRIBUTE = "agent attribute"
    TOPIC = "text-stream topic"
    CAPTION_ATTRIBUTE = "caption attribute"
    """An attribute of the text streams on ``lk.transcription``."""
    PARTICIPANT_ATTRIBUTE = "participant attribute"
    """Set by the client on its own participant."""
    TRACK = "agent audio track"


@dataclass(frozen=True)
class Entry:
    key: str
    """How the playground page (and any client reading ``/api/options``) refers to it."""
    name: str
    kind: Kind
    meaning: str
    owner: str = "Parley"
    """Who defines the name: Parley, livekit-agents (its ``lk.*`` names) or a plugin."""


ENTRIES: list[Entry] = []


def _name(key: str, name: str, kind: Kind, meaning: str, owner: str = "Parley") -> str:
    ENTRIES.append(Entry(key, name, kind, meaning, owner))
    return name


# --- what the agent sets on itself -----------------------------------------------------------
ERROR = _name(
    "error",
    "parley.error",
    Kind.AGENT_ATTRIBUTE,
    'What is wrong in this room, as JSON `{"code","field","message"}` (see docs/errors.md).',
)
TURN = _name(
    "turn",
    "parley.turn",
    Kind.AGENT_ATTRIBUTE,
    "The latest turn's timing in seconds (end of turn, model, voice, v2v), as JSON.",
)
INTERPRETER_LAG = _name(
    "interpreter_lag",
    "parley.interpreter_lag",
    Kind.AGENT_ATTRIBUTE,
    "Interpreter: p50/p95 lag behind the speaker, and its split, as JSON.",
)
MEETING = _name(
    "meeting",
    "parley.meeting",
    Kind.AGENT_ATTRIBUTE,
    "Meeting: line count, transcript delay and where the latest notes went, as JSON.",
)
INTAKE = _name(
    "intake",
    "parley.intake",
    Kind.AGENT_ATTRIBUTE,
    "Intake: status, items answered and missing, and where the record went, as JSON (no answers).",
)
INTAKE_ESCALATION = _name(
    "intake_escalation",
    "parley.intake.escalation",
    Kind.AGENT_ATTRIBUTE,
    "Intake: the id of the red-flag rule that fired (never the caller's words); unset until "
    "one fires.",
)
STATUS = _name(
    "status",
    "parley.status",
    Kind.AGENT_ATTRIBUTE,
    'What is down right now and since when, as JSON `{"down": [{"part","who","error","since"}]}`: '
    "a speaker's recognition (`stt`, by identity), a language's voice (`voice`), a "
    "speech-to-speech session (`session`), the session's provider recovering from an error "
    "(`provider`, until the agent speaks again). Empty once everything works again.",
)
AGENT_STATE = _name(
    "agent_state",
    ATTRIBUTE_AGENT_STATE,
    Kind.AGENT_ATTRIBUTE,
    "`initializing`, `listening`, `thinking` or `speaking`.",
    "livekit-agents",
)

# --- what the agent sends as text streams ---------------------------------------------------
REPORT = _name(
    "report",
    "parley.report",
    Kind.TOPIC,
    "The running session report (turns, interruptions, usage, cost so far), as JSON.",
)
MEETING_TRANSCRIPT = _name(
    "meeting_transcript",
    "parley.meeting.transcript",
    Kind.TOPIC,
    "Meeting: each transcript line as JSON (`seq, speaker, name, start, end, text, source`).",
)
MEETING_NOTES = _name(
    "meeting_notes",
    "parley.meeting.notes",
    Kind.TOPIC,
    "Meeting: the notes (summary, decisions, action items) as JSON.",
)
INTAKE_RECORD = _name(
    "intake_record",
    "parley.intake.record",
    Kind.TOPIC,
    "Intake: the record as JSON each time it changes: `status` (`in_progress`, `complete`, "
    "`partial`, `escalated`), `answers` by item id, `missing`, `escalation`, and the FHIR "
    "R4 `QuestionnaireResponse` under `fhir`. Health data: every participant of the room "
    "receives it.",
)
TRANSCRIPTION = _name(
    "transcription",
    TOPIC_TRANSCRIPTION,
    Kind.TOPIC,
    "Captions of everyone's speech and the agent's, interim and final.",
    "livekit-agents",
)
CHAT = _name(
    "chat",
    TOPIC_CHAT,
    Kind.TOPIC,
    "Chat from clients: the assistant answers it; in a meeting it addresses the agent.",
    "livekit-agents",
)

# --- attributes of a caption ----------------------------------------------------------------
FINAL = _name(
    "final",
    ATTRIBUTE_TRANSCRIPTION_FINAL,
    Kind.CAPTION_ATTRIBUTE,
    '`"true"` on a final caption, `"false"` on an interim one.',
    "livekit-agents",
)
SEGMENT = _name(
    "segment",
    ATTRIBUTE_TRANSCRIPTION_SEGMENT_ID,
    Kind.CAPTION_ATTRIBUTE,
    "One utterance: its interims and final share it.",
    "livekit-agents",
)
TRANSCRIBED_TRACK = _name(
    "transcribed_track",
    ATTRIBUTE_TRANSCRIPTION_TRACK_ID,
    Kind.CAPTION_ATTRIBUTE,
    "The track that was heard (or the interpretation track that speaks a translation).",
    "livekit-agents",
)
SPEAKER = _name(
    "speaker",
    "parley.speaker",
    Kind.CAPTION_ATTRIBUTE,
    "Interpreter and meeting: the identity of who spoke.",
)
SOURCE_LANGUAGE = _name(
    "source_language",
    "parley.source_language",
    Kind.CAPTION_ATTRIBUTE,
    "Interpreter: the language that was spoken.",
)
TARGET_LANGUAGE = _name(
    "target_language",
    "parley.target_language",
    Kind.CAPTION_ATTRIBUTE,
    "Interpreter, on translations only: the caption's language.",
)

# --- what clients set and publish ------------------------------------------------------------
LANGUAGE = _name(
    "language",
    "language",
    Kind.PARTICIPANT_ATTRIBUTE,
    "Interpreter: the language this participant speaks and listens in (BCP-47).",
)
ROLE = _name(
    "role",
    "parley.role",
    Kind.PARTICIPANT_ATTRIBUTE,
    "Intake: `clinician` on a participant who only watches the record; the agent talks with "
    "the first participant without it.",
)
CLINICIAN = "clinician"
INTERPRETATION_TRACK = _name(
    "interpretation_track",
    TRACK_PREFIX,
    Kind.TRACK,
    f"Interpreter: `{TRACK_PREFIX}<lang>` speaks every other speaker in `<lang>`; each "
    "participant may subscribe to their own language's track only.",
    "livekit-plugins-interpreter",
)


def for_clients() -> dict[str, str]:
    """Key → name, for a client that should not retype them."""
    return {e.key: e.name for e in ENTRIES}


def markdown_table() -> str:
    rows = ["| name | kind | from | meaning |", "|---|---|---|---|"]
    rows += [f"| `{e.name}` | {e.kind} | {e.owner} | {e.meaning} |" for e in ENTRIES]
    return "\n".join(rows)
