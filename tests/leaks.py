"""A test leaves no asyncio task running (livekit/agents' ``fail_on_leaked_tasks`` idea):
a task a part forgets to end outlives its session in a worker, too. Used by the suites that
need no server; the leaked tasks are cancelled, named, and fail the test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest


@pytest.fixture(autouse=True)
async def no_leaked_tasks() -> AsyncIterator[None]:
    before = asyncio.all_tasks()
    yield
    await asyncio.sleep(0)  # tasks cancelled at the end get to finish
    leaked = [t for t in asyncio.all_tasks() - before if not t.done()]
    leaked = [t for t in leaked if t is not asyncio.current_task()]
    for task in leaked:
        task.cancel()
    assert not leaked, f"tasks left running: {[repr(t.get_coro()) for t in leaked]}"
