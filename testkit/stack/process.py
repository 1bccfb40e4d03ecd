"""A child process with a log file, a readiness wait, and a stop by PID."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The Parley checkout this kit runs (it is installed editable from ``testkit/``)."""


def installed(script: str, *args: str) -> str:
    """The binary path a ``scripts/install-*`` script prints (it builds and caches it once)."""
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / script), *args], check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


def free_ports(n: int) -> list[int]:
    """``n`` distinct TCP ports nothing uses on any address (the probing sockets stay open
    until all are picked, so two picks cannot be one port). Free on every address, not only
    127.0.0.1: livekit-agents binds its metrics server to all of them. The sockets only
    probe; they never listen."""
    probes = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET6)
            probes.append(s)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.bind(("::", 0))
        return [int(s.getsockname()[1]) for s in probes]
    finally:
        for s in probes:
            s.close()


def free_port() -> int:
    return free_ports(1)[0]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


class ManagedProcess:
    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path = ROOT,
    ) -> None:
        self.name = name
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            list(argv),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            # Own process group, so stop() also ends the children it spawned (job processes).
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.proc.returncode} before {what}; "
                    f"log {self.log_path}:\n{self.log_text()[-4000:]}"
                )
            if ready():
                return
            time.sleep(0.1)
        raise TimeoutError(
            f"{self.name} not {what} after {timeout:.0f}s; log {self.log_path}:\n"
            f"{self.log_text()[-4000:]}"
        )

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to the process group we started (by PID), SIGKILL if it lingers."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # stragglers of the group
        self._log.close()
