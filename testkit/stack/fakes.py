"""The fake providers (``python -m fakes``) with a TLS certificate made for this run."""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trustme

from .process import ManagedProcess


@dataclass
class FakeProviders:
    process: ManagedProcess
    openai_port: int
    gemini_port: int
    ca_file: Path

    def env(self) -> dict[str, str]:
        """What a worker needs to use the fakes through the real plugins."""
        return {
            "OPENAI_API_KEY": "sk-fake",
            "OPENAI_BASE_URL": f"http://127.0.0.1:{self.openai_port}/v1",
            "GOOGLE_API_KEY": "fake-google-key",
            "GOOGLE_GEMINI_BASE_URL": f"https://127.0.0.1:{self.gemini_port}",
            "SSL_CERT_FILE": str(self.ca_file),
        }

    def _call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.openai_port}{path}",
            data=data,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.loads(resp.read())

    def received(self) -> list[dict[str, Any]]:
        return list(self._call("/_fake/received"))

    def reset(self) -> None:
        self._call("/_fake/reset", {})

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Changes the given settings; returns all of them as they are now."""
        return dict(self._call("/_fake/settings", settings))

    @contextlib.contextmanager
    def replying(self, text: str | None = None) -> Iterator[None]:
        """Inside the block the fake model answers ``text`` (None: what the block sets); the
        reply it had is restored after, as one fake serves every test of the session."""
        before = self.configure()["reply_text"]
        if text is not None:
            self.configure(reply_text=text)
        try:
            yield
        finally:
            self.configure(reply_text=before)

    def stop(self) -> None:
        self.process.stop()


def start_fakes(log_dir: Path, timeout: float = 20.0) -> FakeProviders:
    tls_dir = Path(tempfile.mkdtemp(prefix="parley-tls-"))
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca.cert_pem.write_to_path(str(tls_dir / "ca.pem"))
    cert.cert_chain_pems[0].write_to_path(str(tls_dir / "cert.pem"))
    cert.private_key_pem.write_to_path(str(tls_dir / "key.pem"))
    process = ManagedProcess(
        "fakes",
        [
            sys.executable,
            "-u",
            "-m",
            "fakes",
            "--certfile",
            str(tls_dir / "cert.pem"),
            "--keyfile",
            str(tls_dir / "key.pem"),
        ],
        log_dir / "fakes.log",
    )

    def ports() -> dict[str, int] | None:
        for line in process.log_text().splitlines():
            if line.startswith("{"):
                return dict(json.loads(line))
        return None

    process.wait_until(lambda: ports() is not None, timeout, "listening")
    found = ports()
    assert found is not None
    return FakeProviders(process, found["openai_port"], found["gemini_port"], tls_dir / "ca.pem")
