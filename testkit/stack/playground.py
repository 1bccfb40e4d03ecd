"""The playground's web server as a real process: ``python -m agent playground``."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .process import ROOT, ManagedProcess, free_port, port_open


@dataclass
class PlaygroundProcess:
    process: ManagedProcess
    url: str

    def stop(self) -> None:
        self.process.stop()


def start_playground(
    log_dir: Path,
    env: Mapping[str, str],
    *,
    agent_name: str,
    port: int | None = None,
    timeout: float = 30.0,
    cwd: Path = ROOT,
) -> PlaygroundProcess:
    """Serves the page on 127.0.0.1; ``env`` names the LiveKit server (``server.env()``).
    ``cwd``: elsewhere than the checkout, ``agent`` is the one ``env``'s PYTHONPATH finds."""
    port = port or free_port()
    process = ManagedProcess(
        "playground",
        [sys.executable, "-u", "-m", "agent", "playground", "--port", str(port)],
        log_dir / "playground.log",
        env={**env, "LIVEKIT_AGENT_NAME": agent_name},
        cwd=cwd,
    )
    process.wait_until(lambda: port_open(port), timeout, "serving")
    return PlaygroundProcess(process, f"http://127.0.0.1:{port}/")
