"""The real Gemini Live plugin (google-genai, over TLS) against ``fakes/gemini.py``."""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
import trustme
from google.genai import types
from livekit import rtc
from livekit.agents import llm
from livekit.agents.metrics import RealtimeModelMetrics
from livekit.plugins import google
from livekit.plugins.google.realtime.realtime_api import RealtimeSession

from fakes.audio import speak
from fakes.record import Settings

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
REPLY_TEXT = Settings().reply_text
INPUT_RATE = 16000
FRAME_SAMPLES = INPUT_RATE // 50  # 20 ms frames, like a microphone track
TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Fake:
    port: int
    ca_file: Path

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    async def request(self, method: str, path: str, body: Any = None) -> Any:
        tls = ssl.create_default_context(cafile=str(self.ca_file))
        async with (
            aiohttp.ClientSession() as http,
            http.request(method, self.base_url + path, json=body, ssl=tls) as resp,
        ):
            resp.raise_for_status()
            return await resp.json()

    async def events(self, kind: str) -> list[dict[str, Any]]:
        received: list[dict[str, Any]] = await self.request("GET", "/_fake/received")
        return [e for e in received if e["provider"] == "google" and e["kind"] == kind]


@dataclass
class Observed:
    """What a realtime session emitted."""

    generations: asyncio.Queue[llm.GenerationCreatedEvent] = field(default_factory=asyncio.Queue)
    transcripts: list[llm.InputTranscriptionCompleted] = field(default_factory=list)
    metrics: list[RealtimeModelMetrics] = field(default_factory=list)
    """Usage, one per reply."""
    turn_done: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once a final input transcript and the usage of its reply have both arrived."""

    async def next_generation(self) -> llm.GenerationCreatedEvent:
        return await asyncio.wait_for(self.generations.get(), TIMEOUT_S)

    def on_transcript(self, event: llm.InputTranscriptionCompleted) -> None:
        self.transcripts.append(event)
        self._check_turn_done()

    def on_metrics(self, event: RealtimeModelMetrics) -> None:
        # the plugin also reports the connection time, with no request id
        if event.request_id:
            self.metrics.append(event)
            self._check_turn_done()

    def _check_turn_done(self) -> None:
        if self.metrics and any(t.is_final for t in self.transcripts):
            self.turn_done.set()


@dataclass
class Reply:
    text: str
    audio: np.ndarray  # int16 PCM at 24 kHz


@pytest.fixture(scope="module")
def fake_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fake]:
    tmp = tmp_path_factory.mktemp("gemini-tls")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    ca_file, cert_file, key_file = tmp / "ca.pem", tmp / "cert.pem", tmp / "key.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    cert.private_key_pem.write_to_path(str(key_file))
    for i, pem in enumerate(cert.cert_chain_pems):
        pem.write_to_path(str(cert_file), append=i > 0)
    proc = subprocess.Popen(
        [sys.executable, "-m", "fakes", "--certfile", str(cert_file), "--keyfile", str(key_file)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, "python -m fakes exited before printing its ports"
        yield Fake(port=json.loads(line)["gemini_port"], ca_file=ca_file)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
async def fake(fake_server: Fake, monkeypatch: pytest.MonkeyPatch) -> Fake:
    # google-genai builds its TLS context from SSL_CERT_FILE when the session's client is made
    monkeypatch.setenv("SSL_CERT_FILE", str(fake_server.ca_file))
    await fake_server.request("POST", "/_fake/reset")
    await fake_server.request("POST", "/_fake/settings", Settings().model_dump())
    return fake_server


@asynccontextmanager
async def open_session(
    model: google.realtime.RealtimeModel,
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
    return np.frombuffer(speak(text, INPUT_RATE), dtype=np.int16)


def push_utterance(session: RealtimeSession, text: str, silence_s: float = 1.0) -> float:
    """Pushes speech then silence as 20 ms frames; returns the speech duration in seconds."""
    speech = speech_pcm(text)
    padding = int(INPUT_RATE * silence_s) + (-speech.size % FRAME_SAMPLES)
    pcm = np.concatenate([speech, np.zeros(padding, dtype=np.int16)])
    for start in range(0, pcm.size, FRAME_SAMPLES):
        chunk = pcm[start : start + FRAME_SAMPLES]
        session.push_audio(
            rtc.AudioFrame(
                data=chunk.tobytes(),
                sample_rate=INPUT_RATE,
                num_channels=1,
                samples_per_channel=FRAME_SAMPLES,
            )
        )
    return speech.size / INPUT_RATE


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


async def test_voice_turn_through_http_options(fake: Fake) -> None:
    model = google.realtime.RealtimeModel(
        api_key="test", http_options=types.HttpOptions(base_url=fake.base_url)
    )
    async with open_session(model) as (session, observed):
        speech_s = push_utterance(session, "hello there how are you")
        reply = await collect(await observed.next_generation())
        await asyncio.wait_for(observed.turn_done.wait(), TIMEOUT_S)

    assert reply.text == REPLY_TEXT
    assert loud(reply.audio)
    reply_s = reply.audio.size / 24000
    assert reply_s == pytest.approx(speech_pcm(REPLY_TEXT).size / INPUT_RATE, abs=0.15)

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
        push_utterance(session, "hello there how are you")
        message = await first_message(await observed.next_generation())
        audio = aiter(message.audio_stream)
        await asyncio.wait_for(anext(audio), TIMEOUT_S)
        push_utterance(session, "sorry, wait a moment")
        cut = await asyncio.wait_for(join_audio(audio), TIMEOUT_S)
        second = await collect(await observed.next_generation())

    assert cut.size / 24000 < speech_pcm(REPLY_TEXT).size / INPUT_RATE / 2
    assert second.text == REPLY_TEXT
    assert len(await fake.events("live.interrupted")) == 1
    assert len(await fake.events("live.turn")) == 2


async def test_settings_set_reply_and_time_to_first_audio(fake: Fake) -> None:
    await fake.request("POST", "/_fake/settings", {"ttfb_ms": 700, "reply_text": "Short reply."})
    model = google.realtime.RealtimeModel(
        api_key="test", http_options=types.HttpOptions(base_url=fake.base_url)
    )
    async with open_session(model) as (session, observed):
        push_utterance(session, "hello there how are you")
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
        speech_s = push_utterance(session, "hello there how are you", silence_s=0)
        # as the framework does at the end of a manual turn: activityEnd, then a "." user turn
        created = await asyncio.wait_for(session.generate_reply(), TIMEOUT_S)
        reply = await collect(created)
        await asyncio.wait_for(observed.turn_done.wait(), TIMEOUT_S)

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
        push_utterance(session, "hello there how are you")
        reply = await collect(await observed.next_generation())
        await asyncio.wait_for(observed.turn_done.wait(), TIMEOUT_S)

    assert reply.text == REPLY_TEXT
    assert reply.audio.size == 0
    assert observed.metrics[0].output_token_details.text_tokens > 0
