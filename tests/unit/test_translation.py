"""The OpenAI realtime translation client against the protocol fake, in-process: what it
sends, what it reads back, how it fails, and what it bills."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import numpy as np
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from livekit import rtc
from livekit.plugins import interpreter

from fakes import openai_translation
from fakes.audio import speak
from fakes.faults import Fault
from fakes.record import Recorder

pytestmark = pytest.mark.unit
RATE = interpreter.translation.SAMPLE_RATE


@pytest.fixture
async def served() -> AsyncIterator[tuple[Recorder, str, aiohttp.ClientSession]]:
    recorder = Recorder()
    app = web.Application()
    app.add_routes(openai_translation.routes(recorder))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        yield recorder, f"http://127.0.0.1:{server.port}/v1", http
    await server.close()


def frames(pcm: bytes, ms: int = 10) -> list[rtc.AudioFrame]:
    n = RATE * ms // 1000
    samples = np.frombuffer(pcm, dtype=np.int16)
    return [
        rtc.AudioFrame(samples[i : i + n].tobytes(), RATE, 1, n)
        for i in range(0, len(samples) - n + 1, n)
    ]


def backend(url: str, http: aiohttp.ClientSession) -> interpreter.OpenAITranslationBackend:
    return interpreter.OpenAITranslationBackend(api_key="sk-test", base_url=url, http_session=http)


async def test_speech_is_translated_while_it_is_heard_and_the_minutes_are_billed(
    served: tuple[Recorder, str, aiohttp.ClientSession],
) -> None:
    recorder, url, http = served
    recorder.settings.translations = ["Hola a todos."]
    recorder.settings.transcripts = ["Hello everyone."]
    translator = backend(url, http)
    session = await translator.session("en", "es", transcribe=True)
    speech = speak("Hello everyone, this is a long enough sentence to translate.", RATE)
    silence = bytes(RATE * 2)  # a second: the session hears silence too
    for frame in frames(speech + silence):
        session.push_audio(frame)
    await session.aclose()
    seen = [event async for event in session.events()]

    audio = [e for e in seen if isinstance(e, interpreter.translation.TranslatedAudio)]
    text = "".join(e.delta for e in seen if isinstance(e, interpreter.translation.TranslatedText))
    source = "".join(e.delta for e in seen if isinstance(e, interpreter.translation.SourceText))
    assert text == "Hola a todos." and source == "Hello everyone."
    assert audio and all(a.frame.sample_rate == RATE for a in audio)
    # Translated audio started before the source audio ended: it does not wait for a turn.
    speech_ms = len(speech) // 2 * 1000 // RATE
    assert audio[0].elapsed_ms is not None and audio[0].elapsed_ms < speech_ms
    update = next(e for e in recorder.events if e["kind"] == "translation.session.update")
    assert update["audio"]["output"] == {"language": "es"}
    assert update["audio"]["input"]["transcription"] == {"model": "gpt-realtime-whisper"}
    # Billed by the seconds of audio sent, in whole 200 ms chunks.
    (usage,) = translator.usage()
    sent_s = (len(speech) + len(silence)) // (RATE * 2 // 5) / 5
    assert usage.model == "gpt-realtime-translate" and usage.audio_duration == pytest.approx(sent_s)


async def test_a_refused_language_fails_to_open_with_the_param_named(
    served: tuple[Recorder, str, aiohttp.ClientSession],
) -> None:
    _, url, http = served
    with pytest.raises(interpreter.translation.TranslationError, match=r"output\.language"):
        await backend(url, http).session("en", "xx-notone", transcribe=False)


async def test_a_refused_connection_and_a_dropped_session_are_errors_not_silence(
    served: tuple[Recorder, str, aiohttp.ClientSession],
) -> None:
    recorder, url, http = served
    recorder.settings.faults = [Fault(stage="translation", kind="http", status=503)]
    with pytest.raises(interpreter.translation.TranslationError, match="HTTP 503"):
        await backend(url, http).session("en", "es", transcribe=False)

    session = await backend(url, http).session("en", "es", transcribe=False)
    recorder.settings.faults = [Fault(stage="translation", kind="close", after_events=1)]
    for frame in frames(speak("Hello there, how are you today?", RATE)):
        session.push_audio(frame)
    with pytest.raises(interpreter.translation.TranslationError, match=r"lost|closed"):
        async for _ in session.events():
            pass
    await session.aclose()


async def test_frames_of_another_rate_are_refused_with_the_rate_named(
    served: tuple[Recorder, str, aiohttp.ClientSession],
) -> None:
    _, url, http = served
    session = await backend(url, http).session("en", "es", transcribe=False)
    with pytest.raises(ValueError, match="24000 Hz mono"):
        session.push_audio(rtc.AudioFrame(bytes(320), 16000, 1, 160))
    await session.aclose()
