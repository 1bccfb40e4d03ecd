"""The fault switchboard (``fakes/faults.py``) as the real livekit-plugins-openai clients meet
it: errors they retry, errors that outlast their retries, a stall their timeout ends, and a
realtime socket dropped mid-session, which the plugin reopens."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
from livekit.agents import (
    APIConnectionError,
    APIConnectOptions,
    APIStatusError,
    APITimeoutError,
    llm,
    stt,
    utils,
)
from livekit.plugins import openai

from agent.pipeline import offline, quiet, stalls
from stack.fakes import FakeProviders

from .realtime import REPLY_TEXT, Fake, collect, open_session, push_utterance, utterance_frames

pytestmark = pytest.mark.unit

RATE = 24000
QUICK = APIConnectOptions(max_retry=3, retry_interval=0.05, timeout=2.0)


@pytest.fixture
def fake(fakes: FakeProviders) -> Iterator[Fake]:
    yield Fake.fresh(fakes, "openai", f"http://127.0.0.1:{fakes.openai_port}/v1")
    fakes.configure(faults=[])  # what a test left queued must not strike the next ones


async def faults(fake: Fake) -> list[dict[str, Any]]:
    received = await asyncio.to_thread(fake.fakes.received)
    return [e for e in received if e["kind"] == "fault"]


async def test_stt_retries_through_two_503s(fake: Fake) -> None:
    await fake.configure(faults=[{"stage": "stt", "kind": "http", "status": 503, "times": 2}])
    model = openai.STT(base_url=fake.base_url, api_key="test")
    event = await model.recognize(buffer=utterance_frames("hello there", RATE), conn_options=QUICK)
    assert event.alternatives[0].text.startswith("I said something")
    assert [f["status"] for f in await faults(fake)] == [503, 503]
    assert len(await fake.events("audio.transcriptions")) == 1


async def test_a_429_that_outlasts_the_retries_reaches_the_caller(fake: Fake) -> None:
    await fake.configure(
        faults=[{"stage": "llm", "kind": "http", "status": 429, "retry_after_s": 1, "times": 9}]
    )
    model = openai.LLM(base_url=fake.base_url, api_key="test", model="gpt-4.1")
    chat_ctx = llm.ChatContext()
    chat_ctx.add_message(role="user", content="Hello?")
    with pytest.raises(APIConnectionError) as raised:  # the plugin's "after N attempts"
        async with model.chat(chat_ctx=chat_ctx, conn_options=QUICK) as stream:
            async for _ in stream:
                pass
    await model.aclose()
    cause = raised.value.__cause__
    assert isinstance(cause, APIStatusError) and cause.status_code == 429
    assert len(await faults(fake)) == QUICK.max_retry + 1


async def test_a_stall_holds_the_answer_past_the_plugins_timeout(fake: Fake) -> None:
    """livekit-plugins-openai's TTS bounds only the connection by ``timeout``: a provider that
    accepts and then says nothing holds the caller for as long as it stalls. Whatever calls a
    TTS must bound the wait itself."""
    await fake.configure(faults=[{"stage": "tts", "kind": "stall", "stall_s": 1.5}])
    async with utils.http_context.open():
        model = openai.TTS(base_url=fake.base_url, api_key="test")
        no_retry = APIConnectOptions(max_retry=0, retry_interval=0.0, timeout=0.3)
        started = time.monotonic()
        with pytest.raises(APIStatusError) as raised:
            async for _ in model.synthesize("Hello.", conn_options=no_retry):
                pass
    assert raised.value.status_code == 504 and time.monotonic() - started >= 1.5


async def test_parleys_openai_tts_cuts_a_stall_off_and_the_retry_answers(fake: Fake) -> None:
    """Parley's bound on that wait (``agent/pipeline/stalls.py``): no audio for the timeout,
    and the attempt ends in ``APITimeoutError``, which the retry after it acts on."""
    await fake.configure(faults=[{"stage": "tts", "kind": "stall", "stall_s": 3}])
    async with utils.http_context.open():
        model = stalls.OpenAITTS(base_url=fake.base_url, api_key="test")
        assert model.label == openai.TTS(base_url=fake.base_url, api_key="test").label
        no_retry = APIConnectOptions(max_retry=0, retry_interval=0.0, timeout=0.5)
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            async for _ in model.synthesize("Hello.", conn_options=no_retry):
                pass
        assert time.monotonic() - started < 2.0
        await fake.configure(faults=[{"stage": "tts", "kind": "stall", "stall_s": 3}])
        one_retry = APIConnectOptions(max_retry=1, retry_interval=0.0, timeout=0.5)
        frames = [a async for a in model.synthesize("Hello.", conn_options=one_retry)]
    assert frames and time.monotonic() - started < 4.0


async def test_parleys_openai_stt_cuts_a_stall_off_and_the_retry_answers(fake: Fake) -> None:
    await fake.configure(faults=[{"stage": "stt", "kind": "stall", "stall_s": 3}])
    model = stalls.OpenAISTT(base_url=fake.base_url, api_key="test")
    one_retry = APIConnectOptions(max_retry=1, retry_interval=0.0, timeout=0.5)
    started = time.monotonic()
    event = await model.recognize(utterance_frames("hello there", RATE), conn_options=one_retry)
    assert event.alternatives[0].text and time.monotonic() - started < 2.5


SILENT_STT = {"stage": "stt", "kind": "silent", "after_events": 2, "stall_s": 30}
"""A transcription session that goes quiet after session.created and session.updated."""


async def finals(stream: stt.RecognizeStream, within_s: float) -> list[str]:
    """The final transcripts ``stream`` gives in ``within_s`` seconds."""
    texts: list[str] = []

    async def read() -> None:
        async for ev in stream:
            if ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT:
                texts.append(ev.alternatives[0].text)

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(read(), within_s)
    return texts


async def test_a_quiet_transcription_socket_holds_the_plugins_stream(fake: Fake) -> None:
    """livekit-plugins-openai's realtime transcription waits on a quiet socket for good: a
    streaming STT's caller must watch for it (``stalls.StallWatch``)."""
    await fake.configure(faults=[SILENT_STT])
    async with utils.http_context.open():
        model = openai.STT(base_url=fake.base_url, api_key="test")
        stream = model.stream(conn_options=QUICK)
        for frame in utterance_frames("hello there", RATE):
            stream.push_frame(frame)
        heard = await finals(stream, 3.0)
        await stream.aclose()
        await model.aclose()
    assert heard == []


async def test_parleys_stall_watch_reopens_a_quiet_transcription_stream(fake: Fake) -> None:
    """Once the local VAD hears the speech end, a transcript must come within ``stall_s``:
    the attempt ends in ``APITimeoutError`` (a recoverable error) and the retry's socket
    hears the next utterance."""
    await fake.configure(faults=[SILENT_STT])
    async with utils.http_context.open():
        model = stalls.StallWatch(
            # 2 s: the frames go in faster than real time, so the local VAD hears the end
            # before a loaded fake has the audio; a tighter bound cuts the good socket too
            openai.STT(base_url=fake.base_url, api_key="test"),
            offline.segmenter_vad(),
            stall_s=2.0,
        )
        errors: list[stt.STTError] = []
        cut = asyncio.Event()

        def failed(e: stt.STTError) -> None:
            errors.append(e)
            cut.set()

        model.on("error", failed)
        stream = model.stream(conn_options=QUICK)
        started = time.monotonic()
        for frame in utterance_frames("hello there", RATE):
            stream.push_frame(frame)
        reading = asyncio.create_task(finals(stream, 10.0))
        await asyncio.wait_for(cut.wait(), 6.0)
        cut_s = time.monotonic() - started
        for frame in utterance_frames("are you still there", RATE):
            stream.push_frame(frame)
        stream.end_input()
        texts = await reading
        await stream.aclose()
        await model.aclose()
    assert [type(e.error) for e in errors] == [APITimeoutError] and errors[0].recoverable
    assert cut_s < 4.0, cut_s
    assert len(texts) == 1 and texts[0].startswith("I said something"), texts
    assert len(await fake.events("realtime.session")) == 2


async def test_a_dropped_realtime_socket_is_reopened_and_the_next_turn_answered(
    fake: Fake,
) -> None:
    # session.created and session.updated, then the socket goes
    await fake.configure(faults=[{"stage": "realtime", "kind": "close", "after_events": 2}])
    model = openai.realtime.RealtimeModel(base_url=fake.base_url, api_key="test")
    errors: list[llm.RealtimeModelError] = []
    async with open_session(model) as (session, observed):
        session.on("error", errors.append)
        await asyncio.sleep(1.0)  # the plugin notices and reconnects
        push_utterance(session, "are you still there", RATE)
        reply = await collect(await observed.next_generation())
    assert reply.text == REPLY_TEXT
    assert len(await faults(fake)) == 1
    assert len(await fake.events("realtime.session")) == 2


async def test_parleys_watch_replaces_a_quiet_realtime_socket(fake: Fake) -> None:
    """OpenAI Realtime's socket stays open and says nothing once the session is set up: the
    user's turn gets no answer until Parley's watch (``agent/pipeline/quiet.py``) closes it
    ``stall_s`` + ``PROBE_S`` after the user stops (the probe goes unanswered too); the
    plugin reconnects and the next turn is answered."""
    await fake.configure(faults=[{"stage": "realtime", "kind": "silent", "after_events": 2}])
    model = quiet.OpenAIRealtime(
        offline.segmenter_vad(), stall_s=1.0, base_url=fake.base_url, api_key="test"
    )
    errors: list[llm.RealtimeModelError] = []
    async with open_session(model) as (session, observed):
        session.on("error", errors.append)
        push_utterance(session, "is anybody there", RATE)
        await asyncio.sleep(1.0 + 1.0 + quiet.PROBE_S + 1.0)  # speech ends ~1 s in
        assert observed.generations.empty()
        push_utterance(session, "are you still there", RATE)
        reply = await collect(await observed.next_generation())
    assert reply.text == REPLY_TEXT
    assert errors and all(e.recoverable for e in errors)
    assert len(await fake.events("realtime.session")) == 2


async def test_parleys_watch_keeps_a_live_socket_that_ignored_a_sound(fake: Fake) -> None:
    """The local VAD hears speech the provider never hears (here: fed to the VAD alone, as a
    noise the provider does not take for a turn): the provider owes nothing, so the watch's
    probe is answered and the socket stays."""
    model = quiet.OpenAIRealtime(
        offline.segmenter_vad(), stall_s=1.0, base_url=fake.base_url, api_key="test"
    )
    errors: list[llm.RealtimeModelError] = []
    async with open_session(model) as (session, observed):
        session.on("error", errors.append)
        assert isinstance(session, quiet._OpenAISession)
        for frame in utterance_frames("is anybody there", RATE):
            session.watch.hear(frame)
        await asyncio.sleep(1.0 + 1.0 + quiet.PROBE_S + 1.0)
        assert observed.generations.empty()
    assert not errors
    assert len(await fake.events("realtime.session")) == 1
    probes = await fake.events("realtime.session.update")
    assert [e for e in probes if e["session"] == quiet.PROBE["session"]]
