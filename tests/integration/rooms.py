"""What integration tests share: the worker environment and the measured-latency summary."""

from __future__ import annotations

import json
from typing import Any

from stack import worker
from stack.fakes import FakeProviders
from stack.livekit_server import LiveKitServer
from stack.participant import wait_for

MEASUREMENTS: list[str] = []
"""Lines for the end-of-run summary (client-observed latencies), printed by conftest."""


def worker_env(server: LiveKitServer, fakes: FakeProviders, **overrides: str) -> dict[str, str]:
    """The stack's worker environment, with a short error grace so bad-config tests are quick."""
    return worker.worker_env(server, fakes, **({"PARLEY_ERROR_GRACE_S": "3"} | overrides))


async def session_report(process: worker.WorkerProcess, room: str) -> dict[str, Any]:
    """The room's session report, once its job has ended and written it."""
    files = process.data_dir / "reports"
    await wait_for(lambda: list(files.glob(f"RM_*-{room}-*.json")), "the report file", timeout=30)
    report: dict[str, Any] = json.loads(next(files.glob(f"RM_*-{room}-*.json")).read_text())
    return report
