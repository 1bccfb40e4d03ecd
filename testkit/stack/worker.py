"""The Parley worker as a real process: ``python -m agent start`` (or ``dev``)."""

from __future__ import annotations

import json
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.privacy import pseudonym

from .participant import wait_for
from .process import ManagedProcess, free_ports

if TYPE_CHECKING:
    from .fakes import FakeProviders
    from .livekit_server import LiveKitServer


WEBHOOK_SECRET = "parley-test-webhook-secret"


def worker_env(
    server: LiveKitServer, fakes: FakeProviders | None = None, **overrides: str
) -> dict[str, str]:
    """A worker's environment: this server, the fakes (without them: no provider key, so the
    offline default), and nothing from the developer's own keys or defaults."""
    providers = fakes.env() if fakes else {"OPENAI_API_KEY": "", "GOOGLE_API_KEY": ""}
    return {
        **server.env(),
        **providers,
        "GOOGLE_APPLICATION_CREDENTIALS": "",
        "PARLEY_LOAD_THRESHOLD": "inf",
        "PARLEY_DEFAULT_CONFIG": "",
        "PARLEY_CONFIG_FILE": "",
        # Meeting transcripts and notes of a test or bench run stay out of the user's home.
        "PARLEY_DATA_DIR": tempfile.mkdtemp(prefix="parley-data-"),
        # Webhooks are signed, and the kit's receivers listen on 127.0.0.1 over plain http.
        "PARLEY_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "PARLEY_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
        **overrides,
    }


@dataclass
class WorkerProcess:
    process: ManagedProcess
    http_port: int
    agent_name: str
    metrics_port: int
    data_dir: Path
    """PARLEY_DATA_DIR: meeting files and session reports."""

    def metrics(self) -> str:
        """The Prometheus exposition text of ``/metrics``."""
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as resp:
            return str(resp.read().decode())

    async def session_report(self, room: str) -> dict[str, Any]:
        """The room's session report, once its job has ended and written it."""
        files = self.data_dir / "reports"
        pattern = f"RM_*-{room}-*.json"
        await wait_for(lambda: list(files.glob(pattern)), "the report file", timeout=30)
        report: dict[str, Any] = json.loads(next(files.glob(pattern)).read_text())
        return report

    def stop(self) -> None:
        self.process.stop(timeout=30.0)

    def log_size(self) -> int:
        return self.process.log_path.stat().st_size

    def log_since(self, offset: int, last: int = 80) -> str:
        """The log written after byte ``offset``, one short line per record (time, pid,
        level, message): the last ``last`` of them, to read beside a failed test."""
        with self.process.log_path.open("rb") as log:
            log.seek(offset)
            raw = log.read().decode(errors="replace").splitlines()
        lines = []
        for line in raw:
            try:
                record = json.loads(line)
            except ValueError:
                lines.append(line[:200])
                continue
            stamp = str(record.get("timestamp", ""))[11:23]
            fields = (stamp, record.get("pid"), record.get("level"), record.get("message"))
            lines.append(" ".join(str(f) for f in fields)[:240])
        return "\n".join(lines[-last:])

    def job_pid(self, room: str) -> int:
        """The job process serving ``room``: its JSON log lines name the room (by its
        pseudonym: logs never carry room names) and the pid."""
        for raw in self.process.log_text().splitlines():
            if f'"room": "{pseudonym(room)}"' in raw and '"pid"' in raw:
                pid = int(json.loads(raw)["pid"])
                if pid != self.process.proc.pid:  # the worker itself logs the job request
                    return pid
        raise LookupError(f"no job process has logged for room {room}")


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
    module: str = "agent",
) -> WorkerProcess:
    """Starts the worker (``python -m <module> <command>``: Parley's, or a bench's bare
    livekit-agents worker) and waits until it has registered with the server (health OK)."""
    health, metrics_port = free_ports(2)  # two ports, never the same one
    port = http_port or health
    process = ManagedProcess(
        f"worker {agent_name}",
        [sys.executable, "-u", "-m", module, command],
        log_dir / f"worker-{agent_name}.log",
        env={
            **env,
            "LIVEKIT_AGENT_NAME": agent_name,
            "PARLEY_HTTP_PORT": str(port),
            "PARLEY_METRICS_PORT": str(metrics_port),
        },
    )
    process.wait_until(lambda: _registered(process, port), timeout, "registered")
    data_dir = Path(env.get("PARLEY_DATA_DIR") or Path.home() / ".local/share/parley")
    return WorkerProcess(process, port, agent_name, metrics_port, data_dir)
