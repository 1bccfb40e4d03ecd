"""The real livekit-plugins-openai clients (Realtime, LLM, STT, TTS) against ``fakes/openai.py``."""

from __future__ import annotations

import asyncio

import aiohttp
import numpy as np
import pytest
from livekit.agents import llm, stt, utils
from livekit.agents.types import NOT_GIVEN
from livekit.plugins import openai

from stack.fakes import FakeProviders

from .realtime import (
    REPLY_TEXT,
    TIMEOUT_S,
    Fake,
    collect,
    loud,
    open_session,
    push_utterance,
    record_answer,
    speech_pcm,
    talk_over_reply,
    utterance_frames,
)

pytestmark = pytest.mark.unit

RATE = 24000


@pytest.fixture
def fake(fakes: FakeProviders) -> Fake:
    return Fake.fresh(fakes, "openai", f"http://127.0.0.1:{fakes.openai_port}/v1")


async def test_realtime_voice_turn_with_server_vad(fake: Fake) -> None:
    model = openai.realtime.RealtimeModel(base_url=fake.base_url, api_key="test")
    async with open_session(model) as (session, observed):
        push_utterance(session, "hello there how are you", RATE)
        reply = await collect(await observed.next_generation())
        final = await observed.final()
        await asyncio.wait_for(observed.usage.wait(), TIMEOUT_S)

    assert reply.text == REPLY_TEXT
    assert loud(reply.audio)
    reply_s = reply.audio.size / RATE
    assert reply_s == pytest.approx(speech_pcm(REPLY_TEXT, RATE).size / RATE, abs=0.15)

    [audio] = await fake.events("realtime.audio")
    speech_s = speech_pcm("hello there how are you", RATE).size / RATE
    assert 0.5 * speech_s < audio["speech_ms"] / 1000 <= speech_s
    assert audio["total_ms"] >= speech_s * 1000
    assert final.transcript == f"I said something for {audio['speech_ms'] / 1000:.1f} seconds"

    [update, *_] = await fake.events("realtime.session.update")
    audio_input = update["session"]["audio"]["input"]
    assert audio_input["turn_detection"]["type"] == "semantic_vad"
    assert audio_input["transcription"]["model"] == "gpt-4o-mini-transcribe"
    [turn] = await fake.events("realtime.turn")
    assert (turn["trigger"], turn["status"]) == ("server_vad", "completed")

    usage = observed.metrics[0]
    assert usage.output_token_details.audio_tokens == pytest.approx(reply_s * 20, abs=2)
    assert usage.input_token_details.audio_tokens == pytest.approx(audio["ms"] / 100, abs=1)
    assert usage.output_tokens > usage.output_token_details.audio_tokens


async def test_realtime_text_reply_to_manual_commit(fake: Fake) -> None:
    model = openai.realtime.RealtimeModel(
        base_url=fake.base_url, api_key="test", modalities=["text"], turn_detection=None
    )
    async with open_session(model) as (session, observed):
        push_utterance(session, "what time is it", RATE)
        session.commit_audio()
        created = await asyncio.wait_for(
            session.generate_reply(instructions="Answer briefly."), TIMEOUT_S
        )
        reply = await collect(created)
        final = await observed.final()

    assert created.user_initiated
    assert reply.text == REPLY_TEXT
    assert reply.audio.size == 0
    assert final.transcript.startswith("I said something for")
    [turn] = await fake.events("realtime.turn")
    assert (turn["trigger"], turn["modalities"]) == ("client", ["text"])
    assert turn["usage"]["output_token_details"]["audio_tokens"] == 0


async def test_realtime_user_speech_interrupts_the_reply(fake: Fake) -> None:
    model = openai.realtime.RealtimeModel(base_url=fake.base_url, api_key="test")
    async with open_session(model) as (session, observed):
        cut, second = await talk_over_reply(session, observed, RATE)

    assert cut.size / RATE < speech_pcm(REPLY_TEXT, RATE).size / RATE / 2
    assert second.text == REPLY_TEXT
    turns = await fake.events("realtime.turn")
    assert [t["status"] for t in turns] == ["cancelled", "completed"]
    assert len(await fake.events("realtime.audio")) == 2


async def test_llm_streams_chat_completions(fake: Fake) -> None:
    model = openai.LLM(base_url=fake.base_url, api_key="test", model="gpt-4.1")
    chat_ctx = llm.ChatContext()
    chat_ctx.add_message(role="system", content="You are a helpful agent.")
    chat_ctx.add_message(role="user", content="Hello, who are you?")
    pieces: list[str] = []
    usage: list[llm.CompletionUsage] = []
    try:
        async with model.chat(chat_ctx=chat_ctx) as stream:
            async for chunk in stream:
                if chunk.delta and chunk.delta.content:
                    pieces.append(chunk.delta.content)
                if chunk.usage:
                    usage.append(chunk.usage)
    finally:
        await model.aclose()

    assert "".join(pieces) == REPLY_TEXT
    assert len(pieces) == len(REPLY_TEXT.split())
    [total] = usage
    assert total.completion_tokens > 0 and total.prompt_tokens > 0
    [request] = await fake.events("chat.completions")
    assert request["stream"] and request["model"] == "gpt-4.1"
    assert request["roles"][-1] == "user"
    assert request["last_user"] == "Hello, who are you?"


async def test_models_list(fake: Fake) -> None:
    async with (
        aiohttp.ClientSession(headers={"Authorization": "Bearer test"}) as http,
        http.get(f"{fake.base_url}/models") as resp,
    ):
        models = await resp.json()
    assert "gpt-realtime" in [m["id"] for m in models["data"]]


async def test_stt_recognizes_a_wav_upload(fake: Fake) -> None:
    model = openai.STT(base_url=fake.base_url, api_key="test")
    event = await model.recognize(buffer=utterance_frames("hello there how are you", RATE))

    [upload] = await fake.events("audio.transcriptions")
    assert upload["response_format"] == "json"
    assert upload["model"] == "gpt-4o-mini-transcribe"
    assert event.type == stt.SpeechEventType.FINAL_TRANSCRIPT
    expected = f"I said something for {upload['speech_ms'] / 1000:.1f} seconds"
    assert event.alternatives[0].text == expected


async def test_stt_streams_over_a_realtime_transcription_session(fake: Fake) -> None:
    async with utils.http_context.open():
        model = openai.STT(base_url=fake.base_url, api_key="test", use_realtime=True)
        stream = model.stream()
        for frame in utterance_frames("hello there how are you", RATE):
            stream.push_frame(frame)
        kinds: list[stt.SpeechEventType] = []
        async with asyncio.timeout(TIMEOUT_S):
            async for event in stream:
                kinds.append(event.type)
                if event.type == stt.SpeechEventType.FINAL_TRANSCRIPT:
                    text = event.alternatives[0].text
                    break
        await stream.aclose()
        await model.aclose()

    assert kinds[0] == stt.SpeechEventType.START_OF_SPEECH
    assert stt.SpeechEventType.END_OF_SPEECH in kinds
    [audio] = await fake.events("realtime.audio")
    assert text == f"I said something for {audio['speech_ms'] / 1000:.1f} seconds"
    assert not await fake.events("realtime.turn")


@pytest.mark.parametrize(
    ("model_name", "response_format"),
    [("gpt-4o-mini-tts", None), ("gpt-4o-mini-tts", "pcm"), ("tts-1", "wav")],
)
async def test_tts_synthesizes_speech(
    fake: Fake, model_name: str, response_format: str | None
) -> None:
    model = openai.TTS(
        base_url=fake.base_url,
        api_key="test",
        model=model_name,
        response_format=response_format or NOT_GIVEN,
    )
    try:
        frame = await model.synthesize(REPLY_TEXT).collect()
    finally:
        await model.aclose()

    pcm = np.frombuffer(frame.data, dtype=np.int16)
    assert frame.sample_rate == RATE
    assert loud(pcm)
    assert pcm.size / RATE == pytest.approx(speech_pcm(REPLY_TEXT, RATE).size / RATE, abs=0.15)
    [request] = await fake.events("audio.speech")
    assert request["text"] == REPLY_TEXT
    assert request["stream_format"] == ("audio" if model_name == "tts-1" else "sse")
    assert request["response_format"] == (response_format or "mp3")


ANSWER = {"name": "record_answer", "arguments": {"item": "pain_level", "value": "7"}}


async def test_llm_calls_a_scripted_tool_then_relays_its_result(fake: Fake) -> None:
    await fake.configure(tool_calls=[ANSWER])
    model = openai.LLM(base_url=fake.base_url, api_key="test", model="gpt-4.1")
    chat_ctx = llm.ChatContext()
    chat_ctx.add_message(role="user", content="about a seven")
    calls: list[llm.FunctionToolCall] = []
    try:
        async with model.chat(chat_ctx=chat_ctx, tools=[record_answer]) as stream:
            async for chunk in stream:
                calls += chunk.delta.tool_calls if chunk.delta else []
        (call,) = calls
        assert (call.name, call.arguments) == (
            "record_answer",
            '{"item": "pain_level", "value": "7"}',
        )
        chat_ctx.insert(
            llm.FunctionCall(call_id=call.call_id, name=call.name, arguments=call.arguments)
        )
        chat_ctx.insert(
            llm.FunctionCallOutput(
                call_id=call.call_id, name=call.name, output="Next: weight", is_error=False
            )
        )
        async with model.chat(chat_ctx=chat_ctx, tools=[record_answer]) as stream:
            said = "".join([c.delta.content or "" async for c in stream if c.delta])
    finally:
        await model.aclose()

    assert said == "Next: weight"
    first, second = await fake.events("chat.completions")
    assert (first["tool_call"], second["tool_call"]) == ("record_answer", None)
    assert second["roles"][-2:] == ["assistant", "tool"]


async def test_an_unoffered_tool_is_not_called(fake: Fake) -> None:
    await fake.configure(tool_calls=[{"name": "transfer", "arguments": {}}])
    model = openai.LLM(base_url=fake.base_url, api_key="test", model="gpt-4.1")
    chat_ctx = llm.ChatContext()
    chat_ctx.add_message(role="user", content="hello")
    try:
        async with model.chat(chat_ctx=chat_ctx, tools=[record_answer]) as stream:
            said = "".join([c.delta.content or "" async for c in stream if c.delta])
    finally:
        await model.aclose()
    assert said == REPLY_TEXT


async def test_realtime_calls_a_scripted_tool_and_hears_scripted_words(fake: Fake) -> None:
    await fake.configure(tool_calls=[ANSWER], transcripts=["about a seven"])
    model = openai.realtime.RealtimeModel(base_url=fake.base_url, api_key="test")
    async with open_session(model) as (session, observed):
        await session.update_tools([record_answer])
        push_utterance(session, "about a seven", RATE)
        generation = await observed.next_generation()
        calls = [c async for c in generation.function_stream]
        final = await observed.final()

    (call,) = calls
    assert (call.name, call.arguments) == ("record_answer", '{"item": "pain_level", "value": "7"}')
    assert final.transcript == "about a seven"
    [turn] = await fake.events("realtime.turn")
    assert turn["status"] == "completed" and turn["audio_ms"] == 0
