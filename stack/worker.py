"""The Parley worker as a real process: ``python -m agent start`` (or ``dev``)."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .process import ManagedProcess, free_port


@dataclass
class WorkerProcess:
    process: ManagedProcess
    http_port: int
    agent_name: str

    def stop(self) -> None:
        self.process.stop(timeout=30.0)


def _registered(process: ManagedProcess, port: int) -> bool:
    """Registered with the server (its log says so) and its health endpoint answers OK."""
    if "registered worker" not in process.log_text():
        return False
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start_worker(
    log_dir: Path,
    env: Mapping[str, str],
    *,
    agent_name: str = "parley",
    command: str = "start",
    http_port: int | None = None,
    timeout: float = 60.0,
) -> WorkerProcess:
    """Starts the worker and waits until it has registered with the server (health OK)."""
    port = http_port or free_port()
    process = ManagedProcess(
        f"worker {agent_name}",
        [sys.executable, "-u", "-m", "agent", command],
        log_dir / f"worker-{agent_name}.log",
        env={**env, "LIVEKIT_AGENT_NAME": agent_name, "PARLEY_HTTP_PORT": str(port)},
    )
    process.wait_until(lambda: _registered(process, port), timeout, "registered")
    return WorkerProcess(process, port, agent_name)
