"""What integration tests share: the worker environment and the measured-latency summary."""

from __future__ import annotations

from stack import worker
from stack.fakes import FakeProviders
from stack.livekit_server import LiveKitServer

MEASUREMENTS: list[str] = []
"""Lines for the end-of-run summary (client-observed latencies), printed by conftest."""


def worker_env(server: LiveKitServer, fakes: FakeProviders, **overrides: str) -> dict[str, str]:
    """The stack's worker environment, with a short error grace so bad-config tests are quick."""
    return worker.worker_env(server, fakes, **({"PARLEY_ERROR_GRACE_S": "3"} | overrides))
