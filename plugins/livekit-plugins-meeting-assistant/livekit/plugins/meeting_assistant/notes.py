"""Meeting notes: summary, decisions and action items, written by a language model."""

from __future__ import annotations

import json
import time
from typing import Any

from livekit.agents import llm
from pydantic import BaseModel, Field, ValidationError

NOTES_INSTRUCTIONS = (
    "You write the notes of a meeting from its transcript. Answer with only one JSON object, "
    'no prose around it: {"summary": "<3-6 sentences>", "decisions": ["<decision>", ...], '
    '"action_items": [{"owner": "<name or null>", "what": "<task>", "due": "<when, or null>"}]}. '
    "Use only what the transcript says; an owner or due date nobody said is null."
)


class ActionItem(BaseModel):
    owner: str | None = None
    what: str
    due: str | None = None


class NotesContent(BaseModel):
    summary: str = ""
    decisions: list[str] = Field(default_factory=list)
    action_items: list[ActionItem] = Field(default_factory=list)


class Notes(NotesContent):
    room: str
    generated_at: float
    final: bool
    """True for the notes written when the meeting ended; False for a mid-meeting summary."""
    lines: int
    """Transcript lines the notes cover."""
    speakers: list[str]
    structured: bool
    """False when the model did not answer in JSON: its text is kept as the summary."""
    error: str | None = None

    def markdown(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(self.generated_at))
        out = [f"# Meeting notes: {self.room}", "", f"_{when}, {self.lines} transcript lines, "
               f"speakers: {', '.join(self.speakers) or 'none'}_", "", "## Summary", "",
               self.summary or "(nothing was said)", "", "## Decisions", ""]  # fmt: skip
        out += [f"- {d}" for d in self.decisions] or ["- none recorded"]
        out += ["", "## Action items", ""]
        out += [
            f"- [ ] **{a.owner or 'unassigned'}**: {a.what}" + (f" (due {a.due})" if a.due else "")
            for a in self.action_items
        ] or ["- none recorded"]
        return "\n".join(out) + "\n"


def parse(reply: str) -> tuple[NotesContent, bool]:
    """The model's JSON if it wrote some (fenced or not), else its text as the summary."""
    start, end = reply.find("{"), reply.rfind("}")
    if start != -1 and end > start:
        try:
            return NotesContent.model_validate(json.loads(reply[start : end + 1])), True
        except (json.JSONDecodeError, ValidationError):
            pass
    return NotesContent(summary=reply.strip()), False


async def write_notes(model: llm.LLM[Any], transcript: str) -> tuple[NotesContent, bool]:
    ctx = llm.ChatContext()
    ctx.add_message(role="system", content=NOTES_INSTRUCTIONS)
    ctx.add_message(role="user", content=f"Transcript:\n{transcript or '(empty)'}")
    parts: list[str] = []
    async with model.chat(chat_ctx=ctx) as stream:
        async for chunk in stream:
            if chunk.delta and chunk.delta.content:
                parts.append(chunk.delta.content)
    return parse("".join(parts))
