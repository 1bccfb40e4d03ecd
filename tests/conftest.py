"""Shared fixtures. Unit tests use none of the processes; integration tests start the real
livekit-server, the fake providers and the worker once per session, through ``stack``.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from stack.fakes import FakeProviders, start_fakes
from stack.livekit_server import LiveKitServer, start_livekit_server
from stack.phone import PhoneService, Redis, start_phone_service, start_redis
from stack.process import ROOT
from stack.recordings import clip
from stack.worker import WorkerProcess, start_worker

from .integration.rooms import MEASUREMENTS, worker_env

ARTIFACTS = Path(os.environ.get("PARLEY_ARTIFACTS", ROOT / "artifacts"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test is marked by its folder, so `-m unit` / `-m models` / `-m integration`
    select by category."""
    for item in items:
        folder = Path(str(item.fspath)).parent.name
        if folder == "integration":
            item.add_marker(pytest.mark.integration)
        elif folder in ("unit", "fakes"):
            item.add_marker(pytest.mark.unit)
        elif folder == "models":
            item.add_marker(pytest.mark.models)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if MEASUREMENTS:
        terminalreporter.section("measured")
        for line in MEASUREMENTS:
            terminalreporter.write_line(line)


_WORKER_LOG_AT = pytest.StashKey[int]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test that used the worker shows what the worker logged meanwhile: CI keeps
    only the test output, and the worker's side of a failure is in its log."""
    report: pytest.TestReport = yield
    worker = getattr(item, "funcargs", {}).get("worker")
    if isinstance(worker, WorkerProcess):
        if call.when == "setup":
            item.stash[_WORKER_LOG_AT] = worker.log_size()
        elif call.when == "call" and report.failed:
            text = worker.log_since(item.stash.get(_WORKER_LOG_AT, 0))
            report.sections.append(("worker log during the test", text))
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A skipped test hides a missing install step or server: it fails the run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped and exitstatus == pytest.ExitCode.OK:
        print(f"\nFAIL: {len(skipped)} test(s) skipped; nothing may skip here")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def log_dir() -> Path:
    path = ARTIFACTS / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def recording() -> Path:
    """A real recorded English prompt (Debian's asterisk-core-sounds-en-wav)."""
    try:
        return clip("agent-pass")
    except FileNotFoundError as e:
        pytest.fail(str(e))


@pytest.fixture(scope="session")
def redis(log_dir: Path) -> Iterator[Redis]:
    process = start_redis(log_dir)
    yield process
    process.stop()


@pytest.fixture(scope="session")
def livekit_server(log_dir: Path, redis: Redis) -> Iterator[LiveKitServer]:
    """With Redis, as a deployment with a SIP service runs it: the phone tests use its SIP
    API, and every other test runs on the same server."""
    server = start_livekit_server(log_dir, isolated_ports=True, redis=redis.address)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def phones(log_dir: Path, livekit_server: LiveKitServer, redis: Redis) -> Iterator[PhoneService]:
    """The SIP service's stand-in: phone callers reach the agent through dispatch rules."""
    service = start_phone_service(log_dir, livekit_server, redis)
    yield service
    service.stop()


@pytest.fixture(scope="session")
def fakes(log_dir: Path) -> Iterator[FakeProviders]:
    providers = start_fakes(log_dir)
    yield providers
    providers.stop()


@pytest.fixture(scope="session")
def worker(
    livekit_server: LiveKitServer, fakes: FakeProviders, log_dir: Path
) -> Iterator[WorkerProcess]:
    env = worker_env(livekit_server, fakes)
    process = start_worker(log_dir, env, agent_name="parley-test")
    yield process
    process.stop()
