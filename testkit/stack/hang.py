"""Offline engines that hang on demand, in every process of a worker under test: the fault
switchboard's counterpart for the engines that run inside Parley (the fakes can only break
what is behind a socket).

A worker started with ``hanging_env`` loads ``testkit/hang/sitecustomize.py``, which installs
this module. While the file it names lists a stage (``stt``, ``llm``, ``tts``), that stage's
engine call blocks where the real engine would: Whisper's and the language model's calls in
their worker thread (a thread stuck in native code cannot be stopped either), the voice
before its espeak-ng process starts."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

HANG_FILE = "PARLEY_TEST_HANG_FILE"
BOUND_S = 120.0
"""A hung call gives up after this, so a forgotten flag cannot outlive a test run."""
SITE = Path(__file__).resolve().parents[1] / "hang"
"""The folder whose ``sitecustomize`` installs the hangs."""

F = TypeVar("F", bound=Callable[..., Any])


def hanging_env(flag: Path) -> dict[str, str]:
    """The environment additions that make a worker's engines hang while ``flag`` says so."""
    path = os.pathsep.join(p for p in (str(SITE), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, HANG_FILE: str(flag)}


def hang(flag: Path, *stages: str) -> None:
    """Hangs ``stages`` (none: releases them all)."""
    flag.write_text(" ".join(stages))


def _hung(stage: str) -> bool:
    try:
        return stage in Path(os.environ[HANG_FILE]).read_text().split()
    except OSError:
        return False


def _held(stage: str, call: F) -> F:
    def held(*args: Any, **kwargs: Any) -> Any:
        until = time.monotonic() + BOUND_S
        while _hung(stage) and time.monotonic() < until:
            time.sleep(0.05)
        return call(*args, **kwargs)

    return held  # type: ignore[return-value]


def install() -> None:
    from livekit.agents.tts import AudioEmitter
    from livekit.plugins.offline import llm, stt, tts

    stt.STT.transcribe = _held("stt", stt.STT.transcribe)  # type: ignore[method-assign]
    local = llm.LocalModel
    local.fitting_prompt = _held("llm", local.fitting_prompt)  # type: ignore[method-assign]
    espeak = tts.ChunkedStream._espeak

    async def held_voice(self: tts.ChunkedStream, voice: str, out: AudioEmitter) -> None:
        await asyncio.to_thread(_held("tts", lambda: None))
        await espeak(self, voice, out)

    tts.ChunkedStream._espeak = held_voice  # type: ignore[method-assign,assignment]
