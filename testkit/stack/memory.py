"""Resident memory of a process tree, and CPU time of a process, read from /proc (Linux)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel


class ProcessMemory(BaseModel):
    pid: int
    command: str
    rss_mb: float
    pss_mb: float
    """Proportional share: pages shared with the worker's other processes count in part, so
    this is what one more process of this kind costs."""


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split() if (task / "children").exists() else []
        found.extend(int(c) for c in children)
    return found


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _kb(text: str, field: str) -> int:
    return next((int(line.split()[1]) for line in text.splitlines() if line.startswith(field)), 0)


def tree_pids(root: int) -> list[int]:
    """``root`` and every process under it."""
    out: list[int] = []
    stack = [root]
    while stack:
        pid = stack.pop()
        out.append(pid)
        stack.extend(_children(pid))
    return out


def tree_memory(root: int) -> list[ProcessMemory]:
    """Every process under ``root`` (root included) with its resident set size."""
    out: list[ProcessMemory] = []
    for pid in tree_pids(root):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # exited meanwhile
        out.append(
            ProcessMemory(
                pid=pid,
                command=command.strip(),
                rss_mb=_kb(status, "VmRSS:") / 1024,
                pss_mb=_kb(_read(f"/proc/{pid}/smaps_rollup"), "Pss:") / 1024,
            )
        )
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    # The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    fields = _read(f"/proc/{pid}/stat").rsplit(")", 1)[-1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root: int) -> float:
    """CPU time ``root`` and the processes under it have used so far (those still alive)."""
    return sum(cpu_seconds(pid) for pid in tree_pids(root) if _read(f"/proc/{pid}/stat"))


def machine_busy_seconds() -> float:
    """CPU time all cores have spent busy since boot (not idle, not waiting on I/O)."""
    fields = [int(x) for x in _read("/proc/stat").splitlines()[0].split()[1:9]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")
