"""Helpers shared by the tests of the real provider plugins against the fakes (``fakes/``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from livekit import rtc
from livekit.agents import llm
from livekit.agents.metrics import RealtimeModelMetrics

from fakes.audio import speak
from fakes.record import Settings
from stack.fakes import FakeProviders

REPLY_TEXT = Settings().reply_text
TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Fake:
    """One provider of the session's fakes (``tests/conftest.py``), as a test sees it."""

    fakes: FakeProviders
    provider: str
    """The ``provider`` of its recorded events: "openai" or "google"."""
    base_url: str

    @classmethod
    def fresh(cls, fakes: FakeProviders, provider: str, base_url: str) -> Fake:
        """Clears what the fakes recorded and puts their settings back to the defaults."""
        fakes.reset()
        fakes.configure(**Settings().model_dump())
        return cls(fakes, provider, base_url)

    async def configure(self, **settings: Any) -> None:
        await asyncio.to_thread(self.fakes.configure, **settings)

    async def events(self, kind: str) -> list[dict[str, Any]]:
        """This provider's recorded events of one kind (both fakes share one recorder)."""
        received = await asyncio.to_thread(self.fakes.received)
        return [e for e in received if e["provider"] == self.provider and e["kind"] == kind]


@dataclass
class Observed:
    """What a realtime session emitted."""

    generations: asyncio.Queue[llm.GenerationCreatedEvent] = field(default_factory=asyncio.Queue)
    transcripts: list[llm.InputTranscriptionCompleted] = field(default_factory=list)
    final_transcript: asyncio.Event = field(default_factory=asyncio.Event)
    metrics: list[RealtimeModelMetrics] = field(default_factory=list)
    """Usage, one per reply."""
    usage: asyncio.Event = field(default_factory=asyncio.Event)

    async def next_generation(self) -> llm.GenerationCreatedEvent:
        return await asyncio.wait_for(self.generations.get(), TIMEOUT_S)

    def on_transcript(self, event: llm.InputTranscriptionCompleted) -> None:
        self.transcripts.append(event)
        if event.is_final:
            self.final_transcript.set()

    def on_metrics(self, event: object) -> None:
        # plugins also report STT metrics and the connection time (with no request id) here
        if isinstance(event, RealtimeModelMetrics) and event.request_id:
            self.metrics.append(event)
            self.usage.set()

    async def final(self) -> llm.InputTranscriptionCompleted:
        await asyncio.wait_for(self.final_transcript.wait(), TIMEOUT_S)
        return next(t for t in self.transcripts if t.is_final)

    async def turn_done(self) -> None:
        """Waits until a final input transcript and the usage of its reply have both arrived."""
        await asyncio.wait_for(
            asyncio.gather(self.final_transcript.wait(), self.usage.wait()), TIMEOUT_S
        )


@dataclass
class Reply:
    text: str
    audio: np.ndarray  # int16 PCM at 24 kHz


@asynccontextmanager
async def open_session(
    model: llm.RealtimeModel,
) -> AsyncIterator[tuple[llm.RealtimeSession[Any], Observed]]:
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


def speech_pcm(text: str, rate: int) -> np.ndarray:
    return np.frombuffer(speak(text, rate), dtype=np.int16)


def frames_of(speech: np.ndarray, rate: int, silence_s: float = 1.0) -> list[rtc.AudioFrame]:
    """Speech then silence, as 20 ms frames, like a microphone track."""
    frame_samples = rate // 50
    padding = int(rate * silence_s) + (-speech.size % frame_samples)
    pcm = np.concatenate([speech, np.zeros(padding, dtype=np.int16)])
    return [
        rtc.AudioFrame(
            data=pcm[start : start + frame_samples].tobytes(),
            sample_rate=rate,
            num_channels=1,
            samples_per_channel=frame_samples,
        )
        for start in range(0, pcm.size, frame_samples)
    ]


def utterance_frames(text: str, rate: int, silence_s: float = 1.0) -> list[rtc.AudioFrame]:
    return frames_of(speech_pcm(text, rate), rate, silence_s)


def push_utterance(
    session: llm.RealtimeSession[Any], text: str, rate: int, silence_s: float = 1.0
) -> float:
    """Pushes speech then silence as 20 ms frames; returns the speech duration in seconds."""
    speech = speech_pcm(text, rate)
    for frame in frames_of(speech, rate, silence_s):
        session.push_audio(frame)
    return speech.size / rate


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


async def talk_over_reply(
    session: llm.RealtimeSession[Any], observed: Observed, rate: int
) -> tuple[np.ndarray, Reply]:
    """Speaks, then speaks again once the reply's audio starts: returns the audio of the cut
    reply and the reply to the second utterance."""
    push_utterance(session, "hello there how are you", rate)
    message = await first_message(await observed.next_generation())
    audio = aiter(message.audio_stream)
    await asyncio.wait_for(anext(audio), TIMEOUT_S)
    push_utterance(session, "sorry, wait a moment", rate)
    cut = await asyncio.wait_for(join_audio(audio), TIMEOUT_S)
    second = await collect(await observed.next_generation())
    return cut, second


def loud(pcm: np.ndarray) -> bool:
    return pcm.size > 0 and float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2))) > 300


@llm.function_tool()
async def record_answer(item: str, value: str) -> str:
    """Records an answer (the tool the fakes' scripted calls name).

    Args:
        item: The item id.
        value: The answer.
    """
    return f"recorded {item}"
