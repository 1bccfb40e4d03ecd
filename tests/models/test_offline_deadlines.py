"""A hung offline engine ends in livekit-agents' ``APITimeoutError`` within the caller's
``APIConnectOptions.timeout`` (what its retries and ``FallbackAdapter`` act on), and a closed
TTS leaves no espeak-ng behind."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from livekit.agents import APIConnectOptions, APITimeoutError, llm
from livekit.plugins import offline
from livekit.plugins.offline.tts import ChunkedStream

from .conftest import pcm_frame

QUICK = APIConnectOptions(max_retry=0, retry_interval=0.0, timeout=0.5)
HUNG_S = 2.0


def took(started: float) -> float:
    return time.monotonic() - started


async def test_a_hung_whisper_times_out(english_stt: offline.STT, monkeypatch: Any) -> None:
    def hang(_audio: Any) -> str:
        time.sleep(HUNG_S)
        return ""

    monkeypatch.setattr(english_stt, "transcribe", hang)
    speech = pcm_frame(np.zeros(16_000, np.int16), 16_000)
    started = time.monotonic()
    with pytest.raises(APITimeoutError):
        await english_stt.recognize(buffer=speech, conn_options=QUICK)
    assert took(started) < HUNG_S
    await asyncio.sleep(HUNG_S)  # the stuck thread finishes before the next test uses it


async def test_a_hung_language_model_times_out(monkeypatch: Any) -> None:
    model = offline.LLM()

    def hang(**_: Any) -> Iterator[Any]:
        time.sleep(HUNG_S)
        return iter([])

    monkeypatch.setattr(model._local.llama, "create_completion", hang)
    ctx = llm.ChatContext()
    ctx.add_message(role="user", content="Hello?")
    started = time.monotonic()
    with pytest.raises(APITimeoutError):
        async with model.chat(chat_ctx=ctx, conn_options=QUICK) as stream:
            async for _ in stream:
                pass
    assert took(started) < HUNG_S
    await asyncio.sleep(HUNG_S)


async def test_a_hung_voice_times_out(monkeypatch: Any) -> None:
    async def hung(*_: Any) -> None:
        await asyncio.sleep(30)

    monkeypatch.setattr(ChunkedStream, "_espeak", hung)
    voice = offline.TTS(language="en")
    started = time.monotonic()
    with pytest.raises(APITimeoutError):
        async for _ in voice.synthesize("Hello.", conn_options=QUICK):
            pass
    assert took(started) < 5
    await voice.aclose()


async def test_closing_the_tts_ends_its_espeak_processes() -> None:
    voice = offline.TTS(language="en")
    stream = voice.synthesize("This is a long sentence that takes espeak a while. " * 200)
    first = asyncio.ensure_future(stream.__anext__())
    await asyncio.wait_for(first, 10)  # it is speaking
    [proc] = voice._speaking
    await voice.aclose()
    assert proc.returncode is not None and not voice._speaking
    await stream.aclose()
