"""The real livekit-plugins-openai clients (Realtime, LLM, STT, TTS) against ``fakes/openai.py``."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
from livekit import rtc
from livekit.agents import llm, stt, utils
from livekit.agents.metrics import RealtimeModelMetrics
from livekit.agents.types import NOT_GIVEN
from livekit.plugins import openai
from livekit.plugins.openai.realtime import RealtimeSession

from fakes.audio import speak
from fakes.record import Settings

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
REPLY_TEXT = Settings().reply_text
RATE = 24000
FRAME_SAMPLES = RATE // 50  # 20 ms frames, like a microphone track
TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Fake:
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def request(self, method: str, path: str, body: Any = None) -> Any:
        async with (
            aiohttp.ClientSession() as http,
            http.request(method, f"http://127.0.0.1:{self.port}{path}", json=body) as resp,
        ):
            resp.raise_for_status()
            return await resp.json()

    async def events(self, kind: str) -> list[dict[str, Any]]:
        received: list[dict[str, Any]] = await self.request("GET", "/_fake/received")
        return [e for e in received if e["provider"] == "openai" and e["kind"] == kind]


@dataclass
class Observed:
    """What a realtime session emitted."""

    generations: asyncio.Queue[llm.GenerationCreatedEvent] = field(default_factory=asyncio.Queue)
    transcripts: list[llm.InputTranscriptionCompleted] = field(default_factory=list)
    final_transcript: asyncio.Event = field(default_factory=asyncio.Event)
    metrics: list[RealtimeModelMetrics] = field(default_factory=list)
    usage: asyncio.Event = field(default_factory=asyncio.Event)

    async def next_generation(self) -> llm.GenerationCreatedEvent:
        return await asyncio.wait_for(self.generations.get(), TIMEOUT_S)

    def on_transcript(self, event: llm.InputTranscriptionCompleted) -> None:
        self.transcripts.append(event)
        if event.is_final:
            self.final_transcript.set()

    def on_metrics(self, event: object) -> None:
        # the same event carries STTMetrics and a usage-free one for the connection time
        if isinstance(event, RealtimeModelMetrics) and event.request_id:
            self.metrics.append(event)
            self.usage.set()

    async def final(self) -> llm.InputTranscriptionCompleted:
        await asyncio.wait_for(self.final_transcript.wait(), TIMEOUT_S)
        return next(t for t in self.transcripts if t.is_final)


@dataclass
class Reply:
    text: str
    audio: np.ndarray  # int16 PCM at 24 kHz


@pytest.fixture(scope="module")
def fake_server() -> Iterator[Fake]:
    with subprocess.Popen(
        [sys.executable, "-m", "fakes"], cwd=REPO, stdout=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line, "python -m fakes exited before printing its ports"
            yield Fake(port=json.loads(line)["openai_port"])
        finally:
            proc.terminate()


@pytest.fixture
async def fake(fake_server: Fake) -> Fake:
    await fake_server.request("POST", "/_fake/reset")
    return fake_server


@asynccontextmanager
async def open_session(
    model: openai.realtime.RealtimeModel,
) -> AsyncIterator[tuple[RealtimeSession, Observed]]:
    session = model.session()
    observed = Observed()
    session.on("generation_created", observed.generations.put_nowait)
    session.on("input_audio_transcription_completed", observed.on_transcript)
    session.on("metrics_collected", observed.on_metrics)
    try:
        yield session, observed
    finally:
        await session.aclose()
        await model.aclose()


def speech_pcm(text: str) -> np.ndarray:
    return np.frombuffer(speak(text, RATE), dtype=np.int16)


def utterance_frames(text: str, silence_s: float = 1.0) -> list[rtc.AudioFrame]:
    """Speech then silence, as 20 ms frames."""
    speech = speech_pcm(text)
    padding = int(RATE * silence_s) + (-speech.size % FRAME_SAMPLES)
    pcm = np.concatenate([speech, np.zeros(padding, dtype=np.int16)])
    return [
        rtc.AudioFrame(
            data=pcm[start : start + FRAME_SAMPLES].tobytes(),
            sample_rate=RATE,
            num_channels=1,
            samples_per_channel=FRAME_SAMPLES,
        )
        for start in range(0, pcm.size, FRAME_SAMPLES)
    ]


def push_utterance(session: RealtimeSession, text: str) -> None:
    for frame in utterance_frames(text):
        session.push_audio(frame)


async def first_message(generation: llm.GenerationCreatedEvent) -> llm.MessageGeneration:
    async for message in generation.message_stream:
        return message
    raise AssertionError("the generation carried no message")


async def join_text(stream: AsyncIterable[str]) -> str:
    return "".join([piece async for piece in stream])


async def join_audio(stream: AsyncIterable[rtc.AudioFrame]) -> np.ndarray:
    frames = [np.frombuffer(frame.data, dtype=np.int16) async for frame in stream]
    return np.concatenate(frames) if frames else np.zeros(0, dtype=np.int16)


async def collect(generation: llm.GenerationCreatedEvent) -> Reply:
    message = await first_message(generation)
    text, audio = await asyncio.wait_for(
        asyncio.gather(join_text(message.text_stream), join_audio(message.audio_stream)),
        TIMEOUT_S,
    )
    return Reply(text=text, audio=audio)


def loud(pcm: np.ndarray) -> bool:
    return pcm.size > 0 and float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2))) > 300


async def test_realtime_voice_turn_with_server_vad(fake: Fake) -> None:
    model = openai.realtime.RealtimeModel(base_url=fake.base_url, api_key="test")
    async with open_session(model) as (session, observed):
        push_utterance(session, "hello there how are you")
        reply = await collect(await observed.next_generation())
        final = await observed.final()
        await asyncio.wait_for(observed.usage.wait(), TIMEOUT_S)

    assert reply.text == REPLY_TEXT
    assert loud(reply.audio)
    reply_s = reply.audio.size / RATE
    assert reply_s == pytest.approx(speech_pcm(REPLY_TEXT).size / RATE, abs=0.15)

    [audio] = await fake.events("realtime.audio")
    speech_s = speech_pcm("hello there how are you").size / RATE
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
        push_utterance(session, "what time is it")
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
        push_utterance(session, "hello there how are you")
        message = await first_message(await observed.next_generation())
        audio = aiter(message.audio_stream)
        await asyncio.wait_for(anext(audio), TIMEOUT_S)
        push_utterance(session, "sorry, wait a moment")
        cut = await asyncio.wait_for(join_audio(audio), TIMEOUT_S)
        second = await collect(await observed.next_generation())

    assert cut.size / RATE < speech_pcm(REPLY_TEXT).size / RATE / 2
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
    event = await model.recognize(buffer=utterance_frames("hello there how are you"))

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
        for frame in utterance_frames("hello there how are you"):
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
    assert pcm.size / RATE == pytest.approx(speech_pcm(REPLY_TEXT).size / RATE, abs=0.15)
    [request] = await fake.events("audio.speech")
    assert request["text"] == REPLY_TEXT
    assert request["stream_format"] == ("audio" if model_name == "tts-1" else "sse")
    assert request["response_format"] == (response_format or "mp3")
