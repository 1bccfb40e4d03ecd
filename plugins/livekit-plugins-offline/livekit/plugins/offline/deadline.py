"""Every engine call is bounded by the caller's ``APIConnectOptions.timeout``, as a provider
plugin's request is: a hung engine becomes livekit-agents' ``APITimeoutError`` (which its
retries and ``FallbackAdapter`` act on), never a turn that waits for ever. A thread stuck in
native code cannot be stopped; the calls queued behind it time out too, and say so."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from livekit.agents import APITimeoutError

T = TypeVar("T")


async def within(work: Awaitable[T], timeout: float, what: str) -> T:
    try:
        return await asyncio.wait_for(work, timeout)
    except TimeoutError:
        raise APITimeoutError(f"the offline {what} gave nothing within {timeout:g} s") from None
