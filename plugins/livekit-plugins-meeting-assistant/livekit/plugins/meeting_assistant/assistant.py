"""The meeting assistant: hears every participant, answers when addressed, writes the notes.

LiveKit's RoomIO links one participant to an AgentSession; a meeting has many. So each
participant's audio track gets its own STT stream here, and the AgentSession is used only to
speak: its audio input is off, and an address becomes ``generate_reply`` with the meeting so
far as instructions.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from livekit import rtc
from livekit.agents import AgentSession, llm, stt, utils
from livekit.agents.types import (
    ATTRIBUTE_TRANSCRIPTION_FINAL,
    ATTRIBUTE_TRANSCRIPTION_SEGMENT_ID,
    ATTRIBUTE_TRANSCRIPTION_TRACK_ID,
    TOPIC_CHAT,
    TOPIC_TRANSCRIPTION,
)
from livekit.plugins import participants
from livekit.plugins.participants import ChatGate
from livekit.plugins.webhook import Delivery, WebhookPolicy
from pydantic import BaseModel

from .delivery import post_notes, write_files
from .log import logger
from .notes import Notes, NotesContent, write_notes
from .transcript import Line, TranscriptFile
from .wake import addressed

SUMMARY_WORDS = ("summar", "recap", "notes")
ANSWER_INSTRUCTIONS = (
    "You are {name}, the assistant of this meeting. Someone addressed you; answer them aloud, "
    "briefly, in plain spoken language, from what was said in the meeting. If the meeting did "
    "not cover it, say so.\nThe meeting so far:\n{transcript}"
)


@dataclass
class MeetingOptions:
    directory: Path
    """Where the transcript (``<sid>-<room>.transcript.jsonl``) and the notes
    (``<sid>-<room>.notes.{md,json}``) are written, readable by this user only."""
    wake_name: str = "Assistant"
    """The name that addresses the assistant at the start of an utterance."""
    webhook_url: str | None = None
    webhook: WebhookPolicy | None = None
    """How the webhook is called (signing secret, allowed hosts); required with a URL."""
    chat: ChatGate = field(default_factory=ChatGate)
    """How long and how often each participant's chat messages may be."""
    summary_interval_s: float = 60.0
    """Summaries asked for (chat or voice) closer together than this are not written again:
    each one is a notes run and a webhook call."""
    transcript_topic: str = "meeting.transcript"
    """Text-stream topic of each transcript line (JSON)."""
    notes_topic: str = "meeting.notes"
    """Text-stream topic of the notes (JSON)."""
    speaker_attribute: str = "meeting.speaker"
    """Caption attribute with the identity of who spoke."""
    barge_in_s: float = 0.6
    """Someone speaking this long over the assistant stops it; shorter is a cough or 'mm-hm'."""
    answer_context_chars: int = 12_000
    notes_context_chars: int = 48_000
    notes_timeout_s: float = 20.0
    """The notes model's time; past it the notes carry only what the transcript says (who
    spoke, how much) and an error that says why. Bounds the end of a meeting, too."""
    backoff: participants.Backoff = field(default_factory=participants.Backoff)
    """Between attempts to reopen a speaker's failed recognition stream."""


class TranscriptDelay(BaseModel):
    """Speech end → transcript line published, over this job's lines."""

    lines: int
    p50_s: float | None = None
    p95_s: float | None = None


@dataclass
class _Speaker:
    task: asyncio.Task[None]
    name: str
    speaking_since: float | None = None


class MeetingAssistant:
    def __init__(
        self,
        room: rtc.Room,
        *,
        stt_factory: Callable[[], stt.STT[Any]],
        notes_llm: llm.LLM[Any],
        session: AgentSession[Any] | None,
        options: MeetingOptions,
        on_outage: Callable[[str, str, str | None], None] | None = None,
    ) -> None:
        """``stt_factory`` makes a streaming STT (one stream per speaker); ``session``, if
        given, speaks the answers (its audio input must be off). ``on_outage("stt",
        identity, error)`` says when a speaker's recognition fails (their words are not in
        the transcript until it is reopened), and with None once it is."""
        self._room, self._stt_factory, self._llm = room, stt_factory, notes_llm
        self._session, self._opts = session, options
        self._on_outage = on_outage
        self.transcript = TranscriptFile(None)
        """The room's transcript file, opened by ``start()``."""
        self.delays: list[float] = []
        """Per line: speech end → line published, seconds."""
        self.deliveries: list[Delivery] = []
        self.on_notes: Callable[[Notes, list[Delivery]], None] | None = None
        self._speakers: dict[str, _Speaker] = {}
        self._tasks = utils.aio.TaskSet()
        self._notes_lock = asyncio.Lock()
        self._finished: asyncio.Future[Notes] | None = None
        self._stem = ""
        self._names: dict[str, str] = {}
        self._last_summary = -float("inf")

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Opens the transcript of this very room (by its SID: a room of the same name later
        starts afresh) and resumes it if this room's job ran before."""
        participants.private_dir(self._opts.directory)
        self._stem = participants.room_file_stem(await self._room.sid, self._room.name)
        self.transcript = TranscriptFile(self._opts.directory / f"{self._stem}.transcript.jsonl")
        resumed = await asyncio.to_thread(self.transcript.load)
        logger.info("meeting started: %d transcript lines on disk", len(resumed))
        self._room.on("track_subscribed", self._on_track)
        self._room.register_text_stream_handler(TOPIC_CHAT, self._on_chat)
        for p in self._room.remote_participants.values():
            for pub in p.track_publications.values():
                if isinstance(pub.track, rtc.RemoteAudioTrack):
                    self._on_track(pub.track, pub, p)

    async def finish(self) -> Notes:
        """The final notes, once: when the meeting ends (the last human left) or the job ends,
        whichever comes first; a second caller waits for the same notes."""
        if self._finished is None:
            self._finished = asyncio.ensure_future(self.notes(final=True))
        return await asyncio.shield(self._finished)

    async def aclose(self) -> None:
        await utils.aio.cancel_and_wait(*(s.task for s in self._speakers.values()))
        await utils.aio.cancel_and_wait(*self._tasks.tasks)
        self._speakers.clear()
        with contextlib.suppress(ValueError):
            self._room.unregister_text_stream_handler(TOPIC_CHAT)

    def name_of(self, p: rtc.RemoteParticipant) -> str:
        """The name a participant had when first seen: lines are attributed by identity, and
        renaming oneself later cannot put words under another's name."""
        return self._names.setdefault(p.identity, p.name or p.identity)

    # --- hearing -------------------------------------------------------------------------

    def _on_track(
        self, track: rtc.Track, _pub: rtc.RemoteTrackPublication, p: rtc.RemoteParticipant
    ) -> None:
        if (
            not isinstance(track, rtc.RemoteAudioTrack)
            or participants.is_agent(p)  # never hear ourselves
            or p.identity in self._speakers
        ):
            return
        name = self.name_of(p)
        task = asyncio.create_task(self._hear(p.identity, track), name=f"hear {p.identity}")
        self._speakers[p.identity] = _Speaker(task, name)
        task.add_done_callback(lambda _: self._speakers.pop(p.identity, None))

    async def _hear(self, identity: str, track: rtc.RemoteAudioTrack) -> None:
        speaker = self._speakers[identity]
        segment, start, end = uuid.uuid4().hex[:12], time.time(), None

        def told(error: str | None) -> None:
            if self._on_outage is not None:
                self._on_outage("stt", identity, error)

        hearing = participants.hear(
            track, self._stt_factory(), on_outage=told, backoff=self._opts.backoff
        )
        async for ev in hearing:
            text = ev.alternatives[0].text.strip() if ev.alternatives else ""
            if ev.type == stt.SpeechEventType.START_OF_SPEECH:
                segment, start, end = uuid.uuid4().hex[:12], time.time(), None
                speaker.speaking_since = start
                self._tasks.create_task(self._barge_in(speaker, start))
            elif ev.type == stt.SpeechEventType.END_OF_SPEECH:
                end = ev.speech_end_time or time.time()
                speaker.speaking_since = None
            elif ev.type == stt.SpeechEventType.INTERIM_TRANSCRIPT and text:
                self._tasks.create_task(self._caption(identity, track, segment, text, final=False))
            elif ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT and text:
                line = Line(
                    seq=self.transcript.next_seq,
                    speaker=identity,
                    name=speaker.name,
                    start=start,
                    end=end or time.time(),
                    text=text,
                )
                self._tasks.create_task(self._caption(identity, track, segment, text, final=True))
                await self._add_line(line)
                segment = uuid.uuid4().hex[:12]

    def _on_chat(self, reader: rtc.TextStreamReader, identity: str) -> None:
        async def read() -> None:
            text = (await reader.read_all()).strip()
            p = self._room.remote_participants.get(identity)
            if not text or p is None or participants.is_agent(p):
                return
            if not self._opts.chat.admits(identity, text):
                logger.info(
                    "chat message dropped (too long or too soon): %d so far",
                    self._opts.chat.dropped,
                )
                return
            now = time.time()
            line = Line(
                seq=self.transcript.next_seq,
                speaker=identity,
                name=self.name_of(p),
                start=now,
                end=now,
                text=text,
                source="chat",
            )
            await self._add_line(line)

        self._tasks.create_task(read())

    async def _add_line(self, line: Line) -> None:
        """Written to disk first, so nothing published can be lost by a crash."""
        await asyncio.to_thread(self.transcript.append, line)
        await self._send(self._opts.transcript_topic, line.model_dump_json())
        if line.source == "speech":
            self.delays.append(time.time() - line.end)
        request = line.text if line.source == "chat" else addressed(line.text, self._opts.wake_name)
        if request is not None:
            self._answer(line, request)

    # --- speaking ------------------------------------------------------------------------

    def _answer(self, line: Line, request: str) -> None:
        logger.info("addressed (%s)", line.source)  # who: their identity may name a patient
        if any(word in request.lower() for word in SUMMARY_WORDS):
            now = time.monotonic()
            if now - self._last_summary >= self._opts.summary_interval_s:
                self._last_summary = now
                self._tasks.create_task(self.notes(final=False))
            else:
                logger.info(
                    "summary asked again within %.0f s: not rewritten", now - self._last_summary
                )
        if self._session is None:
            return
        context = self.transcript.render(self._opts.answer_context_chars)
        self._session.generate_reply(
            user_input=f"{line.name}: {request or '(said only your name)'}",
            instructions=ANSWER_INSTRUCTIONS.format(name=self._opts.wake_name, transcript=context),
        )

    async def _barge_in(self, speaker: _Speaker, since: float) -> None:
        """Stops the assistant when someone keeps talking over it."""
        session = self._session
        if session is None or session.agent_state != "speaking":
            return
        await asyncio.sleep(self._opts.barge_in_s)
        if speaker.speaking_since == since and session.agent_state == "speaking":
            logger.info("interrupted: a participant talked over the answer")
            session.interrupt()

    # --- notes ---------------------------------------------------------------------------

    async def notes(self, *, final: bool) -> Notes:
        async with self._notes_lock:
            lines = list(self.transcript.lines)
            error = None
            try:
                content, structured = await asyncio.wait_for(
                    write_notes(self._llm, self.transcript.render(self._opts.notes_context_chars)),
                    self._opts.notes_timeout_s,
                )
            except Exception as e:  # the model failed: the notes still list who said how much
                error = f"the notes model failed ({type(e).__name__}); the transcript is complete"
                logger.warning(error)
                content, structured = NotesContent(), False
            notes = Notes(
                room=self._room.name,
                generated_at=time.time(),
                final=final,
                lines=len(lines),
                speakers=sorted({line.name for line in lines}),
                structured=structured,
                error=error,
                **content.model_dump(),
            )
            deliveries = [
                await asyncio.to_thread(write_files, self._opts.directory / self._stem, notes)
            ]
            await self._send(self._opts.notes_topic, notes.model_dump_json())
            if self._opts.webhook_url and self._opts.webhook:
                deliveries.append(
                    await post_notes(self._opts.webhook_url, notes, self._opts.webhook)
                )
            for d in deliveries:
                if not d.ok:
                    logger.warning("notes not delivered to %s: %s", d.target, d.error)
            self.deliveries += deliveries
            if self.on_notes:
                self.on_notes(notes, deliveries)
            return notes

    # --- room output ---------------------------------------------------------------------

    async def _caption(
        self, identity: str, track: rtc.RemoteAudioTrack, segment: str, text: str, *, final: bool
    ) -> None:
        attributes = {
            ATTRIBUTE_TRANSCRIPTION_FINAL: str(final).lower(),
            ATTRIBUTE_TRANSCRIPTION_SEGMENT_ID: f"SG_{segment}",
            ATTRIBUTE_TRANSCRIPTION_TRACK_ID: track.sid,
            self._opts.speaker_attribute: identity,
        }
        await self._send(TOPIC_TRANSCRIPTION, text, attributes)

    async def _send(self, topic: str, text: str, attributes: dict[str, str] | None = None) -> None:
        if not self._room.isconnected():
            return
        try:
            await self._room.local_participant.send_text(text, topic=topic, attributes=attributes)
        except Exception as e:  # one lost message must not stop the meeting's transcript
            logger.warning("could not send on %s: %s", topic, type(e).__name__)

    def delay_summary(self) -> TranscriptDelay:
        if not self.delays:
            return TranscriptDelay(lines=0)
        return TranscriptDelay(
            lines=len(self.delays),
            p50_s=statistics.median(self.delays),
            p95_s=participants.percentile(self.delays, 0.95),
        )
