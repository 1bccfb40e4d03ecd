"""The real livekit-server, from ``livekit.yaml`` (ports overridable so tests never collide)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from .process import ROOT, ManagedProcess, free_port, installed, port_open

API_KEY = "devkey"
API_SECRET = "secret"


@dataclass
class LiveKitServer:
    process: ManagedProcess
    port: int

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {
            "LIVEKIT_URL": self.url,
            "LIVEKIT_API_KEY": API_KEY,
            "LIVEKIT_API_SECRET": API_SECRET,
        }

    def stop(self) -> None:
        self.process.stop()


def start_livekit_server(
    log_dir: Path,
    *,
    isolated_ports: bool = False,
    timeout: float = 30.0,
    redis: str | None = None,
    name: str = "livekit-server",
) -> LiveKitServer:
    """Starts livekit-server with ``livekit.yaml``; ``isolated_ports`` picks free ports;
    ``redis`` (``host:port``) turns on its SIP API, which needs Redis to reach a SIP service."""
    config = yaml.safe_load((ROOT / "livekit.yaml").read_text())
    if redis is not None:
        config["redis"] = {"address": redis}
    if isolated_ports:
        config["port"] = free_port()
        config["rtc"]["tcp_port"] = free_port()
        # A UDP range of its own, derived from the HTTP port so parallel runs differ.
        start = 20000 + (config["port"] % 40) * 1000
        config["rtc"]["port_range_start"], config["rtc"]["port_range_end"] = start, start + 999
    path = Path(tempfile.mkdtemp(prefix="parley-lk-")) / "livekit.yaml"
    path.write_text(yaml.safe_dump(config))
    process = ManagedProcess(
        name, [installed("install-livekit-server"), "--config", str(path)], log_dir / f"{name}.log"
    )
    port = int(config["port"])
    process.wait_until(lambda: port_open(port), timeout, "listening")
    return LiveKitServer(process, port)
