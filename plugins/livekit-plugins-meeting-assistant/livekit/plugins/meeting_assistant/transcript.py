"""The attributed meeting transcript, appended line by line to a JSONL file.

Each final line is written and fsync'ed as it arrives, so a killed job process loses nothing
said before; a job dispatched again into the room reads the file and carries on.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from livekit.plugins.participants import append_private
from pydantic import BaseModel, ValidationError

from .log import logger


class Line(BaseModel):
    seq: int
    speaker: str
    """Participant identity."""
    name: str
    """Display name (the identity when the participant has none)."""
    start: float
    """Unix time the speech started."""
    end: float
    """Unix time the speech ended."""
    text: str
    source: str = "speech"
    """``speech`` or ``chat``."""

    def render(self) -> str:
        clock = time.strftime("%H:%M:%S", time.gmtime(self.start))
        return f"[{clock}] {self.name}: {self.text}"


class TranscriptFile:
    def __init__(self, path: Path | None) -> None:
        """``path`` None: not opened yet, nothing on disk."""
        self.path = path
        self.lines: list[Line] = []

    def load(self) -> list[Line]:
        """Lines already on disk; a line torn by a kill mid-write is skipped, not fatal."""
        self.lines = []
        if self.path is not None and self.path.exists():
            for raw in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    self.lines.append(Line.model_validate_json(raw))
                except ValidationError:
                    logger.warning("skipping an unreadable line in %s", self.path)
        return self.lines

    def append(self, line: Line) -> None:
        if self.path is None:
            raise RuntimeError("the transcript file is not open yet: start the assistant first")
        append_private(self.path, json.dumps(line.model_dump(), ensure_ascii=False))
        self.lines.append(line)

    @property
    def next_seq(self) -> int:
        return self.lines[-1].seq + 1 if self.lines else 1

    def render(self, max_chars: int) -> str:
        """The most recent lines that fit ``max_chars``, oldest first."""
        kept: list[str] = []
        size = 0
        for line in reversed(self.lines):
            text = line.render()
            if size + len(text) > max_chars and kept:
                break
            kept.append(text)
            size += len(text) + 1
        return "\n".join(reversed(kept))
