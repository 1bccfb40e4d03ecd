"""Files of what people said (transcripts, notes, reports): only the worker's user may read
them, and no two rooms share one.

Folders are created 0700 and files 0600, whatever the umask. A room's files are named by its
SID, which no other room has, even one of the same name, with a readable part of its name.
"""

from __future__ import annotations

import os
import re
from pathlib import Path


def private_dir(path: Path) -> Path:
    """``path`` and its missing parents, created 0700 (an existing one is narrowed to it)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def write_private(path: Path, text: str) -> None:
    """Replaces ``path`` whole with ``text``, readable by the worker's user only."""
    partial = path.with_name(f".{path.name}.part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(partial, path)


def append_private(path: Path, line: str) -> None:
    """Appends one line and waits until it is on disk (a killed process loses nothing)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())


def _readable(name: str, limit: int) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name)[:limit].strip("_") or "room"


def room_file_stem(sid: str, name: str) -> str:
    """The stem of a room's file names: ``<sid>-<readable name>``, no separators or dots."""
    return f"{_readable(sid, 64)}-{_readable(name, 40)}"
