"""A room's parts that fail and come back, without a server: a speaker's STT stream reopened
with backoff, an interpretation track that skips the unit its voice failed on, the meeting's
final notes written once and bounded in time, and ``parley.status`` telling the room."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
from livekit import rtc
from livekit.agents import APIConnectionError, APIConnectOptions, llm, stt, tts
from livekit.agents.language import LanguageCode
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS
from livekit.plugins import meeting_assistant as ma
from livekit.plugins import participants
from livekit.plugins.interpreter.output import InterpretationTrack, Unit

from agent import protocol
from agent.reports.status import StatusBoard

FAST = participants.Backoff(first_s=0.01, max_s=0.05)
NO_RETRY = APIConnectOptions(max_retry=0, retry_interval=0.0, timeout=1.0)


def frame(ms: int = 20, rate: int = 16_000) -> rtc.AudioFrame:
    n = rate * ms // 1000
    return rtc.AudioFrame(np.zeros(n, np.int16).tobytes(), rate, 1, n)


class FlakySTT(stt.STT[None]):
    """Each stream says one final per frame it is given; the first ``failing`` streams fail
    on their first frame instead, as a provider whose socket drops."""

    def __init__(self, failing: int) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=True, interim_results=False))
        self.failing, self.opened = failing, 0

    async def _recognize_impl(self, *_: Any, **__: Any) -> stt.SpeechEvent:
        raise NotImplementedError

    def stream(self, **_: Any) -> stt.RecognizeStream:
        self.opened += 1
        fails = self.opened <= self.failing
        outer = self

        class Stream(stt.RecognizeStream):
            async def _run(self) -> None:
                async for item in self._input_ch:
                    if isinstance(item, self._FlushSentinel):
                        continue
                    if fails:
                        raise APIConnectionError("dropped")
                    self._event_ch.send_nowait(
                        stt.SpeechEvent(
                            stt.SpeechEventType.FINAL_TRANSCRIPT,
                            alternatives=[stt.SpeechData(language=LanguageCode("en"), text="word")],
                        )
                    )

        return Stream(stt=outer, conn_options=NO_RETRY, sample_rate=16_000)


async def paced(n: int) -> AsyncIterator[rtc.AudioFrame]:
    for _ in range(n):
        yield frame()
        await asyncio.sleep(0.02)


async def test_a_failed_stt_stream_is_reopened_and_the_room_told() -> None:
    told: list[str | None] = []
    recogniser = FlakySTT(failing=2)
    events = [
        ev async for ev in participants.recognise(paced(30), recogniser, "t", told.append, FAST)
    ]
    assert recogniser.opened == 3
    assert told == ["APIConnectionError", None, "APIConnectionError", None]
    assert len(events) > 10 and {ev.alternatives[0].text for ev in events} == {"word"}


async def test_a_stt_that_keeps_failing_never_ends_the_speaker_before_the_track() -> None:
    told: list[str | None] = []
    recogniser = FlakySTT(failing=10**6)
    events = [
        ev async for ev in participants.recognise(paced(25), recogniser, "t", told.append, FAST)
    ]
    assert events == [] and recogniser.opened >= 4  # retried until the track ended
    assert told[0] == "APIConnectionError"


def test_backoff_doubles_up_to_its_bound() -> None:
    b = participants.Backoff(first_s=0.5, max_s=4.0)
    assert [b.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 4.0]


class BrokenOnceTTS(tts.TTS[None]):
    """Fails the first text it is asked to say, then says each as 0.1 s of silence."""

    def __init__(self) -> None:
        super().__init__(capabilities=tts.TTSCapabilities(streaming=False), sample_rate=16_000,
                         num_channels=1)  # fmt: skip
        self.calls = 0

    def synthesize(self, text: str, **_: Any) -> tts.ChunkedStream:
        self.calls += 1
        fails = self.calls == 1
        outer = self

        class Stream(tts.ChunkedStream):
            async def _run(self, output_emitter: tts.AudioEmitter) -> None:
                if fails:
                    raise APIConnectionError("voice down")
                output_emitter.initialize(request_id="r", sample_rate=16_000, num_channels=1,
                                          mime_type="audio/pcm")  # fmt: skip
                output_emitter.push(bytes(3200))

        return Stream(tts=outer, input_text=text, conn_options=NO_RETRY)


def unit(text: str) -> Unit:
    async def translated() -> str:
        return text

    done = asyncio.ensure_future(translated())
    return Unit(speaker="a", source="en", target="es", segment_id="s", translation=done,
                speech_start=0.0)  # fmt: skip


async def test_a_voice_that_fails_skips_one_unit_and_the_track_goes_on() -> None:
    told: list[str | None] = []
    spoken: list[str] = []

    async def on_spoken(_: Unit, text: str) -> None:
        spoken.append(text)

    track = InterpretationTrack(
        SimpleNamespace(), "es", BrokenOnceTTS(), 16_000, on_spoken,  # type: ignore[arg-type]
        on_outage=told.append,
    )  # fmt: skip
    track._task = asyncio.create_task(track._play())  # publish() needs a room
    units = [unit("uno"), unit("dos"), unit("tres")]
    for u in units:
        track.enqueue(u)
    played = await asyncio.wait_for(asyncio.gather(*(u.played for u in units)), 10)
    await track.aclose()
    assert played[0] is None and played[1] is not None and played[2] is not None
    assert spoken == ["uno", "dos", "tres"]
    assert told == ["APIConnectionError", None]


class CountingLLM(llm.LLM[None]):
    """Writes the notes after ``delay_s``; counts how often it was asked."""

    def __init__(self, delay_s: float) -> None:
        super().__init__()
        self.delay_s, self.calls = delay_s, 0

    def chat(self, *, chat_ctx: llm.ChatContext, **_: Any) -> Any:
        self.calls += 1
        outer = self

        class Stream(llm.LLMStream):
            async def _run(self) -> None:
                await asyncio.sleep(outer.delay_s)
                self._event_ch.send_nowait(
                    llm.ChatChunk(id="x", delta=llm.ChoiceDelta(content='{"summary": "Met."}'))
                )

        return Stream(outer, chat_ctx=chat_ctx, tools=[], conn_options=DEFAULT_API_CONNECT_OPTIONS)


def assistant(tmp_path: Path, notes_llm: llm.LLM[None], timeout_s: float) -> ma.MeetingAssistant:
    room: Any = SimpleNamespace(name="r", remote_participants={}, isconnected=lambda: False)
    a = ma.MeetingAssistant(
        room, stt_factory=lambda: None, notes_llm=notes_llm, session=None,  # type: ignore[arg-type, return-value]
        options=ma.MeetingOptions(directory=tmp_path, notes_timeout_s=timeout_s),
    )  # fmt: skip
    a._stem = "sid-r"
    return a


async def test_the_final_notes_are_written_once_whoever_asks(tmp_path: Path) -> None:
    model = CountingLLM(delay_s=0.2)
    a = assistant(tmp_path, model, timeout_s=5)
    first, second = await asyncio.gather(a.finish(), a.finish())  # room gone + job shutdown
    assert first is second and first.summary == "Met." and model.calls == 1
    assert await a.finish() is first and model.calls == 1
    assert len(a.deliveries) == 1


async def test_notes_whose_model_hangs_end_in_time_with_the_facts(tmp_path: Path) -> None:
    a = assistant(tmp_path, CountingLLM(delay_s=60), timeout_s=0.3)
    notes = await asyncio.wait_for(a.finish(), 5)
    assert notes.final and notes.summary == "" and "TimeoutError" in (notes.error or "")
    assert json.loads((tmp_path / "sid-r.notes.json").read_text())["error"] == notes.error


async def test_the_room_status_lists_what_is_down_until_it_is_back() -> None:
    sent: list[dict[str, str]] = []

    async def set_attributes(attrs: dict[str, str]) -> None:
        sent.append(attrs)

    room: Any = SimpleNamespace(
        isconnected=lambda: True, local_participant=SimpleNamespace(set_attributes=set_attributes)
    )
    board = StatusBoard(room)
    board.told("stt", "alice", "APIConnectionError")
    board.told("stt", "alice", "APIConnectionError")  # still down: not said again
    board.told("voice", "es", "APIStatusError")
    board.told("stt", "alice", None)
    board.told("voice", "fr", None)  # was never down
    board.told("voice", "es", None)
    await asyncio.sleep(0.05)
    assert board.errors == ["stt: APIConnectionError", "voice: APIStatusError"]
    states = [json.loads(a[protocol.STATUS])["down"] for a in sent]
    assert [[(o["part"], o["who"]) for o in s] for s in states] == [
        [("stt", "alice")],
        [("stt", "alice"), ("voice", "es")],
        [("voice", "es")],
        [],
    ]
    assert states[0][0]["error"] == "APIConnectionError"
