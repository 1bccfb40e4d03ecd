"""What integration tests share: the worker environment and the measured-latency summary."""

from __future__ import annotations

from stack.fakes import FakeProviders
from stack.livekit_server import LiveKitServer

MEASUREMENTS: list[str] = []
"""Lines for the end-of-run summary (client-observed latencies), printed by conftest."""


def worker_env(server: LiveKitServer, fakes: FakeProviders, **overrides: str) -> dict[str, str]:
    """A worker's environment: the test server, the fakes, and nothing from the developer's."""
    return {
        **server.env(),
        **fakes.env(),
        "GOOGLE_APPLICATION_CREDENTIALS": "",
        "PARLEY_LOAD_THRESHOLD": "inf",
        "PARLEY_ERROR_GRACE_S": "3",
        "PARLEY_DEFAULT_CONFIG": "",
        "PARLEY_CONFIG_FILE": "",
        **overrides,
    }
