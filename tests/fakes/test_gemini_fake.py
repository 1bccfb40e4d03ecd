"""The real Gemini Live plugin (google-genai, over TLS) against ``fakes/gemini.py``."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from google.genai import types
from livekit.agents import llm
from livekit.plugins import google

from agent.pipeline import offline, quiet
from stack.fakes import FakeProviders

from .realtime import (
    REPLY_TEXT,
    TIMEOUT_S,
    Fake,
    collect,
    first_message,
    join_text,
    loud,
    open_session,
    push_utterance,
    record_answer,
    speech_pcm,
    talk_over_reply,
)

pytestmark = pytest.mark.unit

INPUT_RATE = 16000


@pytest.fixture
def fake(fakes: FakeProviders, monkeypatch: pytest.MonkeyPatch) -> Fake:
    # google-genai builds its TLS context from SSL_CERT_FILE when the session's client is made
    monkeypatch.setenv("SSL_CERT_FILE", str(fakes.ca_file))
    return Fake.fresh(fakes, "google", f"https://127.0.0.1:{fakes.gemini_port}")


async def test_voice_turn_through_http_options(fake: Fake) -> None:
    model = google.realtime.RealtimeModel(
        api_key="test", http_options=types.HttpOptions(base_url=fake.base_url)
    )
    async with open_session(model) as (session, observed):
        speech_s = push_utterance(session, "hello there how are you", INPUT_RATE)
        reply = await collect(await observed.next_generation())
        await observed.turn_done()

    assert reply.text == REPLY_TEXT
    assert loud(reply.audio)
    reply_s = reply.audio.size / 24000
    assert reply_s == pytest.approx(speech_pcm(REPLY_TEXT, INPUT_RATE).size / INPUT_RATE, abs=0.15)

    [turn] = await fake.events("live.turn")
    assert 0.5 * speech_s < turn["speech_ms"] / 1000 <= speech_s + 0.05
    final = next(t for t in observed.transcripts if t.is_final)
    assert final.transcript == f"I said something for {turn['speech_ms'] / 1000:.1f} seconds"

    [setup] = await fake.events("live.setup")
    assert setup["model"] == f"models/{model.model}"
    assert setup["response_modalities"] == ["AUDIO"]
    assert setup["input_transcription"] and setup["output_transcription"]
    assert setup["automatic_activity_detection"]
    assert max(e["ms"] for e in await fake.events("live.audio")) >= speech_s * 1000

    usage = observed.metrics[0]
    assert usage.output_token_details.audio_tokens == pytest.approx(reply_s * 25, abs=3)
    assert usage.input_token_details.audio_tokens >= int(speech_s * 32)


async def test_generate_reply_through_env_base_url(
    fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.base_url)
    async with open_session(google.realtime.RealtimeModel(api_key="test")) as (session, _):
        created = await asyncio.wait_for(
            session.generate_reply(instructions="Greet the caller."), TIMEOUT_S
        )
        reply = await collect(created)

    assert created.user_initiated
    assert reply.text == REPLY_TEXT
    assert loud(reply.audio)
    contents = await fake.events("live.client_content")
    assert any(
        c["turn_complete"] and any(t["text"] == "Greet the caller." for t in c["turns"])
        for c in contents
    )


async def test_user_speech_interrupts_the_reply(fake: Fake) -> None:
    model = google.realtime.RealtimeModel(
        api_key="test", http_options=types.HttpOptions(base_url=fake.base_url)
    )
    async with open_session(model) as (session, observed):
        cut, second = await talk_over_reply(session, observed, INPUT_RATE)

    assert cut.size / 24000 < speech_pcm(REPLY_TEXT, INPUT_RATE).size / INPUT_RATE / 2
    assert second.text == REPLY_TEXT
    assert len(await fake.events("live.interrupted")) == 1
    assert len(await fake.events("live.turn")) == 2


async def test_settings_set_reply_and_time_to_first_audio(fake: Fake) -> None:
    await fake.configure(ttfb_ms=700, reply_text="Short reply.")
    model = google.realtime.RealtimeModel(
        api_key="test", http_options=types.HttpOptions(base_url=fake.base_url)
    )
    async with open_session(model) as (session, observed):
        push_utterance(session, "hello there how are you", INPUT_RATE)
        # the input transcript opens the generation as the fake commits the turn
        message = await first_message(await observed.next_generation())
        committed = time.monotonic()
        audio = aiter(message.audio_stream)
        await asyncio.wait_for(anext(audio), TIMEOUT_S)
        ttfb_s = time.monotonic() - committed
        text = await asyncio.wait_for(join_text(message.text_stream), TIMEOUT_S)

    assert 0.6 < ttfb_s < 1.2
    assert text == "Short reply."


async def test_manual_activity_detection(fake: Fake) -> None:
    model = google.realtime.RealtimeModel(
        api_key="test",
        http_options=types.HttpOptions(base_url=fake.base_url),
        realtime_input_config=types.RealtimeInputConfig(
            automatic_activity_detection=types.AutomaticActivityDetection(disabled=True)
        ),
    )
    async with open_session(model) as (session, observed):
        session.start_user_activity()
        speech_s = push_utterance(session, "hello there how are you", INPUT_RATE, silence_s=0)
        # as the framework does at the end of a manual turn: activityEnd, then a "." user turn
        created = await asyncio.wait_for(session.generate_reply(), TIMEOUT_S)
        reply = await collect(created)
        await observed.turn_done()

    assert created.user_initiated
    assert reply.text == REPLY_TEXT
    [setup] = await fake.events("live.setup")
    assert not setup["automatic_activity_detection"]
    [turn] = await fake.events("live.turn")
    assert turn["source"] == "activity"
    assert turn["speech_ms"] / 1000 == pytest.approx(speech_s, abs=0.05)
    assert not await fake.events("live.interrupted")
    assert len(await fake.events("live.reply")) == 1


async def test_text_modality_replies_in_text(fake: Fake) -> None:
    model = google.realtime.RealtimeModel(
        api_key="test",
        http_options=types.HttpOptions(base_url=fake.base_url),
        modalities=[types.Modality.TEXT],
    )
    async with open_session(model) as (session, observed):
        push_utterance(session, "hello there how are you", INPUT_RATE)
        reply = await collect(await observed.next_generation())
        await observed.turn_done()

    assert reply.text == REPLY_TEXT
    assert reply.audio.size == 0
    assert observed.metrics[0].output_token_details.text_tokens > 0


async def test_a_scripted_tool_call_and_its_result_relayed(fake: Fake) -> None:
    answer = {"item": "pain_level", "value": "7"}
    await fake.configure(
        tool_calls=[{"name": "record_answer", "arguments": answer}], transcripts=["about seven"]
    )
    model = google.realtime.RealtimeModel(
        api_key="test", http_options=types.HttpOptions(base_url=fake.base_url)
    )
    async with open_session(model) as (session, observed):
        await session.update_tools([record_answer])
        push_utterance(session, "about a seven", INPUT_RATE)
        generation = await observed.next_generation()
        (call,) = [c async for c in generation.function_stream]
        chat_ctx = session.chat_ctx.copy()
        chat_ctx.insert(call)
        output = "Next: your weight"
        chat_ctx.insert(
            llm.FunctionCallOutput(
                call_id=call.call_id, name=call.name, output=output, is_error=False
            )
        )
        await session.update_chat_ctx(chat_ctx)
        relayed = await collect(await observed.next_generation())

    assert (call.name, json.loads(call.arguments)) == ("record_answer", answer)
    assert next(t for t in observed.transcripts if t.is_final).transcript == "about seven"
    assert relayed.text == output and loud(relayed.audio)
    [response] = await fake.events("live.tool_response")
    assert response["calls"][0]["name"] == "record_answer"


async def test_a_quiet_live_socket_holds_the_turn(fake: Fake) -> None:
    """The switchboard's ``silent`` fault on a Live session: after setupComplete the socket
    stays open and says nothing, and livekit-plugins-google waits on it (no reply, no
    error): what Parley's watch is for (the next test)."""
    await fake.configure(faults=[{"stage": "realtime", "kind": "silent", "after_events": 1}])
    model = google.realtime.RealtimeModel(
        api_key="test", http_options=types.HttpOptions(base_url=fake.base_url)
    )
    async with open_session(model) as (session, observed):
        errors: list[llm.RealtimeModelError] = []
        session.on("error", errors.append)
        push_utterance(session, "hello there how are you", INPUT_RATE)
        await asyncio.sleep(3.0)
    assert observed.generations.empty() and not errors
    received = await asyncio.to_thread(fake.fakes.received)
    assert [e["fault"] for e in received if e["kind"] == "fault.struck"] == ["silent"]


async def test_parleys_watch_restarts_a_quiet_live_session(fake: Fake) -> None:
    """The same quiet socket under Parley's watch (``agent/pipeline/quiet.py``): ``stall_s`` +
    ``PROBE_S`` after the user stops, the session is restarted the way a failed receive is
    (a recoverable error), and the next turn is answered on the new socket."""
    await fake.configure(faults=[{"stage": "realtime", "kind": "silent", "after_events": 1}])
    model = quiet.GeminiRealtime(
        offline.segmenter_vad(),
        stall_s=1.0,
        api_key="test",
        http_options=types.HttpOptions(base_url=fake.base_url),
    )
    errors: list[llm.RealtimeModelError] = []
    async with open_session(model) as (session, observed):
        session.on("error", errors.append)
        push_utterance(session, "hello there how are you", INPUT_RATE)
        await asyncio.sleep(1.5 + 1.0 + quiet.PROBE_S + 1.5)  # speech ends ~1.5 s in
        assert observed.generations.empty()
        push_utterance(session, "are you still there", INPUT_RATE)
        reply = await collect(await observed.next_generation())
    assert reply.text == REPLY_TEXT
    assert errors and all(e.recoverable for e in errors)
