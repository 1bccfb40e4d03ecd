"""The live interpreter: hears every participant, speaks each one to every other language.

Every participant other than agents is heard on its own STT stream (LiveKit's RoomIO links a
single participant, so this does not use it). Each utterance is cut into clauses as it is
recognised; each clause is translated into every language some *other* participant listens
in, and spoken on that language's track (``interpretation-<lang>``), queued behind whatever
that track is already saying. Track permissions let each participant subscribe only to the
track of their own language.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import time
from collections.abc import AsyncIterable, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from livekit import rtc
from livekit.agents import llm, stt, utils
from livekit.agents.types import (
    ATTRIBUTE_TRANSCRIPTION_FINAL,
    ATTRIBUTE_TRANSCRIPTION_SEGMENT_ID,
    ATTRIBUTE_TRANSCRIPTION_TRACK_ID,
    TOPIC_TRANSCRIPTION,
)
from livekit.plugins import participants

from .backend import Backend, RealtimeBackend
from .casing import continued, ends_sentence
from .lag import LagRecorder, UtteranceLag
from .log import logger
from .output import InterpretationTrack, Unit
from .segmenter import ClauseSegmenter
from .translation import (
    TranslatedAudio,
    TranslatedText,
    TranslationBackend,
    TranslationError,
    TranslationSession,
)
from .utterance import SpeechClock, Utterance, is_silent


@dataclass(frozen=True)
class CaptionAttributes:
    """Names of the attributes a caption carries besides livekit's own ``lk.*`` ones."""

    speaker: str = "interpreter.speaker"
    """Identity of the participant who spoke."""
    source_language: str = "interpreter.source_language"
    target_language: str = "interpreter.target_language"
    """Only on translations: the language of the caption's text."""


@dataclass(frozen=True)
class InterpreterOptions:
    languages: Mapping[str, str] = field(default_factory=dict)
    """Participant identity → language, for participants without a ``language`` attribute."""
    language_attribute: str = "language"
    captions: CaptionAttributes = field(default_factory=CaptionAttributes)
    max_languages: int = 8
    """Languages served at once: each pair is checked, and with a speech-to-speech backend
    each costs a session per speaker. A participant whose language would be one more is
    refused (``on_refused``)."""
    max_queued: int = 16
    """Units waiting on one language's track; past it the oldest is dropped (and counted in
    the lag summary), so a backlog cannot grow without end."""
    backoff: participants.Backoff = field(default_factory=participants.Backoff)
    """Between attempts to reopen a failed recognition stream or speech-to-speech session."""


LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")
"""A BCP-47 tag as a participant may set it (``es``, ``es-MX``, ``zh-Hant-TW``)."""


def base_language(tag: str) -> str:
    """Listeners of ``es`` and ``es-MX`` share one Spanish track."""
    return tag.split("-")[0].lower()


Outage = Callable[[str, str, str | None], None]
"""(part, key, error type or None once it works again): part ``stt`` is keyed by the
speaker's identity, ``voice`` by the language of the track."""


PHRASE_GAP_S = 0.6
"""A translation session's audio pausing this long (no audio, or silent audio) ends a phrase:
its unit is complete."""


class _LiveSession(Protocol):
    """A speech-to-speech or translation session, as ``_hear_live`` feeds it."""

    def push_audio(self, frame: rtc.AudioFrame) -> None: ...

    async def aclose(self) -> None: ...


_Lost = Callable[[Any, str], None]
"""(the session, error type): a session died; it is closed and, after the backoff, reopened."""
_Attach = Callable[[str, bool, _Lost], Awaitable[_LiveSession]]
"""(target, whether it captions the original, lost) → a session wired to the room."""


class _Phrase:
    """A translation session's speech between two pauses: one unit on the target's track."""

    def __init__(self, words: list[str]) -> None:
        self.words = words
        self.audio: utils.aio.Chan[rtc.AudioFrame] = utils.aio.Chan()
        self.text: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.unit: Unit | None = None
        self._paused: list[rtc.AudioFrame] = []
        """Silence held back: spoken if the phrase goes on, dropped if it ends."""

    def send(self, frame: rtc.AudioFrame) -> None:
        for held in self._paused:
            self.audio.send_nowait(held)
        self._paused.clear()
        self.audio.send_nowait(frame)

    def pause(self, frame: rtc.AudioFrame) -> float:
        """Holds a silent frame; returns how long the phrase has been silent."""
        self._paused.append(frame)
        return sum(f.duration for f in self._paused)

    def close(self, speech_end: float | None) -> None:
        """``speech_end``: when the speaker's utterance ended, if it has (its end lag)."""
        if self.unit is not None and speech_end is not None:
            self.unit.speech_end = speech_end
        self.audio.close()
        if not self.text.done():
            self.text.set_result("".join(self.words).strip())


@dataclass
class _Speaker:
    language: str
    track: rtc.RemoteAudioTrack
    task: asyncio.Task[None]


class Interpreter:
    def __init__(
        self,
        room: rtc.Room,
        backend: Backend | RealtimeBackend | TranslationBackend,
        options: InterpreterOptions | None = None,
        *,
        on_unsupported: Callable[[str, str, str], None] | None = None,
        on_refused: Callable[[str, str], None] | None = None,
        on_outage: Outage | None = None,
    ) -> None:
        """``on_unsupported(source, target, reason)`` is told once per pair that cannot work;
        ``on_refused(identity, reason)`` once per participant whose language is refused (not
        a language tag, or one language too many); ``on_outage`` when a speaker's
        recognition or a language's voice fails, and when it works again."""
        self._room, self._backend = room, backend
        self._opts = options or InterpreterOptions()
        self._on_unsupported = on_unsupported
        self._on_refused = on_refused
        self._on_outage = on_outage
        self._told: set[tuple[str, str]] = set()
        self._speakers: dict[str, _Speaker] = {}
        self._tracks: dict[str, InterpretationTrack] = {}
        self._publishing: dict[str, asyncio.Task[InterpretationTrack]] = {}
        self._refused: dict[tuple[str, str], str] = {}
        self._targets: dict[tuple[str, str], frozenset[str]] = {}
        """(speaker, source) → target languages; the realtime backend asks for every frame,
        so it is kept until the roster or a pair's support changes."""
        self._tasks = utils.aio.TaskSet()
        self.lag = LagRecorder()

    # --- who speaks what ---------------------------------------------------------------

    def _declared(self, p: rtc.RemoteParticipant) -> str | None:
        tag = p.attributes.get(self._opts.language_attribute) or self._opts.languages.get(
            p.identity
        )
        if not tag:
            return None
        if not LANGUAGE_TAG.match(tag):
            self._refuse(p.identity, "its language attribute is not a language tag (e.g. es-MX)")
            return None
        return base_language(tag)

    def _admitted(self) -> list[str]:
        """The languages served: the first ``max_languages`` declared, in order of joining."""
        declared = (self._declared(q) for q in participants.humans(self._room))
        return list(dict.fromkeys(lang for lang in declared if lang))[: self._opts.max_languages]

    def language_of(self, p: rtc.RemoteParticipant) -> str | None:
        """The participant's language, if it is a tag and one of the languages served."""
        language = self._declared(p)
        if language is None or language in self._admitted():
            return language
        self._refuse(p.identity, f"the room serves {self._opts.max_languages} languages at most")
        return None

    def _refuse(self, identity: str, reason: str) -> None:
        if (identity, reason) not in self._told:
            self._told.add((identity, reason))
            logger.warning("a participant's language is refused: %s", reason)
            if self._on_refused:
                self._on_refused(identity, reason)

    def targets_for(self, speaker: str, source: str) -> frozenset[str]:
        """Languages other listeners need, except the speaker's own and refused pairs."""
        key = (speaker, source)
        if key not in self._targets:
            self._targets[key] = frozenset(
                lang
                for p in participants.humans(self._room)
                if p.identity != speaker
                and (lang := self.language_of(p))
                and lang != source
                and (source, lang) not in self._refused
            )
        return self._targets[key]

    async def check_pairs(self) -> None:
        """Asks the backend about every pair the room needs now, before anyone talks; called
        on every change of who is here and what they speak. The backend may load models to
        answer: that happens off the event loop, which carries everyone's audio."""
        expected = [base_language(t) for t in self._opts.languages.values()]
        admitted = self._admitted()
        languages = set(list(dict.fromkeys(admitted + expected))[: self._opts.max_languages])
        for source in languages:
            for target in languages - {source}:
                if (source, target) in self._refused:
                    continue
                reason = await asyncio.to_thread(self._backend.unsupported, source, target)
                if reason:
                    self._refused[(source, target)] = reason
                    self._targets.clear()
                    logger.warning("cannot interpret %s → %s: %s", source, target, reason)
                    if self._on_unsupported:
                        self._on_unsupported(source, target, reason)

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        # Nobody may subscribe to anything until each track's audience is known: a client
        # that auto-subscribes must never get a language that is not its own, even briefly.
        self._room.local_participant.set_track_subscription_permissions(
            allow_all_participants=False
        )
        self._room.on("track_subscribed", self._on_track_subscribed)
        self._room.on("participant_disconnected", self._on_left)
        self._room.on("participant_connected", self._on_roster_changed)
        self._room.on("participant_attributes_changed", self._on_attributes_changed)
        await self.check_pairs()
        for p in participants.humans(self._room):
            for pub in p.track_publications.values():
                if isinstance(pub.track, rtc.RemoteAudioTrack):
                    self._listen(p, pub.track)
        await self._prepare_tracks()

    async def aclose(self) -> None:
        await utils.aio.cancel_and_wait(
            *(s.task for s in self._speakers.values()), *self._tasks.tasks
        )
        for track in self._tracks.values():
            await track.aclose()

    def _on_track_subscribed(
        self, track: rtc.Track, _pub: rtc.RemoteTrackPublication, p: rtc.RemoteParticipant
    ) -> None:
        if isinstance(track, rtc.RemoteAudioTrack):
            self._listen(p, track)

    def _on_left(self, p: rtc.RemoteParticipant) -> None:
        speaker = self._speakers.pop(p.identity, None)
        if speaker is not None:
            speaker.task.cancel()
        self._targets.clear()
        self._tasks.create_task(self._prepare_tracks())

    def _on_roster_changed(self, _p: rtc.RemoteParticipant) -> None:
        self._targets.clear()

        async def refresh() -> None:
            await self.check_pairs()
            await self._prepare_tracks()

        self._tasks.create_task(refresh())

    def _on_attributes_changed(self, changed: dict[str, str], p: rtc.RemoteParticipant) -> None:
        if self._opts.language_attribute not in changed:
            return
        speaker = self._speakers.get(p.identity)
        if speaker is not None and speaker.language != self.language_of(p):
            # A new language needs another recogniser: restart this speaker's stream.
            self._speakers.pop(p.identity)
            speaker.task.cancel()
        for pub in p.track_publications.values():
            if isinstance(pub.track, rtc.RemoteAudioTrack):
                self._listen(p, pub.track)
        self._on_roster_changed(p)

    # --- output tracks and permissions --------------------------------------------------

    async def _prepare_tracks(self) -> None:
        """Publishes the track of every language some participant listens in; then lets each
        participant subscribe to their own language's track only."""
        needed = {lang for p in participants.humans(self._room) if (lang := self.language_of(p))}
        await asyncio.gather(*(self._track(lang) for lang in needed))
        self._apply_permissions()
        # A language nobody listens in any more is unpublished: nothing is synthesised for
        # it, and a listener who switched away stops receiving it (livekit-server 1.13 keeps
        # an existing subscription when its permission is revoked).
        for language in set(self._tracks) - needed:
            track = self._tracks.pop(language)
            self._publishing.pop(language, None)
            await self._room.local_participant.unpublish_track(track.sid)
            await track.aclose()

    async def _track(self, language: str) -> InterpretationTrack:
        if language in self._tracks:
            return self._tracks[language]
        if language not in self._publishing:  # concurrent callers share one publication

            async def publish() -> InterpretationTrack:
                # Speech-to-speech brings its own audio; a cascade voices text with its TTS.
                if isinstance(self._backend, (RealtimeBackend, TranslationBackend)):
                    speech, rate = None, self._backend.sample_rate
                else:
                    speech = await asyncio.to_thread(self._backend.tts, language)
                    rate = speech.sample_rate
                track = InterpretationTrack(
                    self._room,
                    language,
                    speech,
                    rate,
                    self._caption_translation,
                    max_queued=self._opts.max_queued,
                    on_drop=lambda _: self.lag.drop(),
                    on_outage=self._outage("voice", language),
                )
                await track.publish()
                self._tracks[language] = track
                return track

            self._publishing[language] = asyncio.ensure_future(publish())
        return await self._publishing[language]

    def _apply_permissions(self) -> None:
        permissions = []
        for p in participants.humans(self._room):
            lang = self.language_of(p)
            track = self._tracks.get(lang) if lang else None
            permissions.append(
                rtc.ParticipantTrackPermission(
                    participant_identity=p.identity,
                    allowed_track_sids=[track.sid] if track else [],
                )
            )
        self._room.local_participant.set_track_subscription_permissions(
            allow_all_participants=False, participant_permissions=permissions
        )

    # --- hearing -------------------------------------------------------------------------

    def _listen(self, p: rtc.RemoteParticipant, track: rtc.RemoteAudioTrack) -> None:
        language = self.language_of(p)
        # Never our own output, nor another agent's.
        if participants.is_agent(p) or language is None or p.identity in self._speakers:
            return
        hearing = (
            self._hear_realtime(p.identity, language, track, self._backend)
            if isinstance(self._backend, RealtimeBackend)
            else self._hear_translation(p.identity, language, track, self._backend)
            if isinstance(self._backend, TranslationBackend)
            else self._hear(p.identity, language, track, self._backend)
        )
        task = asyncio.create_task(hearing, name=f"hear {p.identity}")
        self._speakers[p.identity] = _Speaker(language, track, task)

    async def _hear(
        self, identity: str, language: str, track: rtc.RemoteAudioTrack, backend: Backend
    ) -> None:
        recogniser = await asyncio.to_thread(backend.stt, language)
        segmenter = ClauseSegmenter()
        utterance = Utterance.new(time.time())
        async for ev in participants.hear(
            track, recogniser, on_outage=self._outage("stt", identity), backoff=self._opts.backoff
        ):
            text = ev.alternatives[0].text if ev.alternatives else ""
            if ev.type == stt.SpeechEventType.START_OF_SPEECH:
                utterance = Utterance.new(time.time())
            elif ev.type == stt.SpeechEventType.INTERIM_TRANSCRIPT and text:
                self._tasks.create_task(
                    self._caption_source(identity, language, track, utterance, text, False)
                )
                for unit in segmenter.interim(text):
                    self._dispatch(backend, identity, language, utterance, unit, last=False)
            elif ev.type == stt.SpeechEventType.END_OF_SPEECH:
                utterance.end = ev.speech_end_time or time.time()
            elif ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT and text:
                self._tasks.create_task(
                    self._caption_source(identity, language, track, utterance, text, True)
                )
                for unit in segmenter.final(text):
                    self._dispatch(backend, identity, language, utterance, unit, last=True)
                utterance = Utterance.new(time.time())

    async def _hear_live(
        self,
        identity: str,
        language: str,
        track: rtc.RemoteAudioTrack,
        sample_rate: int,
        attach: _Attach,
        on_frame: Callable[[rtc.AudioFrame], None] | None = None,
    ) -> None:
        """One live session per target language, each fed this speaker's audio: opened when
        someone listens in it, closed when nobody does, reopened with backoff when it dies.
        ``on_frame`` sees each frame first."""
        audio = rtc.AudioStream(track, sample_rate=sample_rate, num_channels=1)
        sessions: dict[str, _LiveSession] = {}
        opening: dict[str, asyncio.Task[None]] = {}
        failures: dict[str, int] = {}

        async def failed(target: str, error: str) -> None:
            """The session is gone: the next frame after the backoff opens another."""
            failures[target] = failures.get(target, 0) + 1
            self._outage("session", f"{identity}:{target}")(error)
            delay = self._opts.backoff.delay(failures[target])
            logger.warning(
                "interpreter session into %s: %s, reopening in %.1f s", target, error, delay
            )
            await asyncio.sleep(delay)
            opening.pop(target, None)

        def lost(target: str, session: _LiveSession, error: str) -> None:
            if sessions.get(target) is session:
                del sessions[target]
                self._tasks.create_task(session.aclose())
                opening[target] = asyncio.create_task(failed(target, error))

        async def open_session(target: str) -> None:
            try:
                # One session captions the original, not every one.
                session = await attach(target, not sessions, functools.partial(lost, target))
            except Exception as e:
                await failed(target, type(e).__name__)
                return
            if failures.pop(target, 0):
                self._outage("session", f"{identity}:{target}")(None)
            sessions[target] = session

        try:
            async for event in audio:
                if on_frame is not None:
                    on_frame(event.frame)
                targets = self.targets_for(identity, language)
                for target in targets - sessions.keys() - opening.keys():
                    opening[target] = asyncio.create_task(open_session(target))
                for target in sessions.keys() - targets:  # nobody listens in it any more
                    opening.pop(target, None)
                    self._tasks.create_task(sessions.pop(target).aclose())
                for target, session in sessions.items():
                    if target in targets:
                        session.push_audio(event.frame)
        finally:
            await utils.aio.cancel_and_wait(*opening.values())
            for session in sessions.values():
                await session.aclose()
            await audio.aclose()

    async def _hear_realtime(
        self, identity: str, language: str, track: rtc.RemoteAudioTrack, backend: RealtimeBackend
    ) -> None:
        """Speech-to-speech sessions, whose own turn detection cuts the utterances."""
        utterances: dict[str, Utterance] = {}

        async def attach(target: str, transcribes: bool, lost: _Lost) -> _LiveSession:
            session = await backend.session(language, target)
            utterances[target] = Utterance.new(time.time())

            def started(_: Any) -> None:
                utterances[target] = Utterance.new(time.time())

            def stopped(_: Any) -> None:
                utterances[target].end = time.time()

            def generated(ev: llm.GenerationCreatedEvent) -> None:
                self._tasks.create_task(
                    self._relay(ev, identity, language, target, utterances[target])
                )

            def transcribed(ev: llm.InputTranscriptionCompleted) -> None:
                if transcribes and ev.transcript:
                    caption = self._caption_source(
                        identity, language, track, utterances[target], ev.transcript, ev.is_final
                    )
                    self._tasks.create_task(caption)

            def errored(ev: llm.RealtimeModelError) -> None:
                if not ev.recoverable:  # else the plugin reconnects by itself
                    lost(session, type(ev.error).__name__)

            session.on("error", errored)
            session.on("input_speech_started", started)
            session.on("input_speech_stopped", stopped)
            session.on("generation_created", generated)
            session.on("input_audio_transcription_completed", transcribed)
            return session

        await self._hear_live(identity, language, track, backend.sample_rate, attach)

    async def _hear_translation(
        self,
        identity: str,
        language: str,
        track: rtc.RemoteAudioTrack,
        backend: TranslationBackend,
    ) -> None:
        """Translation sessions: they speak while the speaker talks. Their audio is cut into
        phrases at its pauses, each one unit on the target's track; the speaker's own
        utterances (for the lag, and the original's captions) come from the level of the
        audio, as the sessions report no speech start or end."""
        clock = SpeechClock()

        async def attach(target: str, transcribes: bool, lost: _Lost) -> _LiveSession:
            session = await backend.session(language, target, transcribe=transcribes)
            self._tasks.create_task(
                self._relay_translation(session, identity, language, target, track, clock, lost)
            )
            return session

        await self._hear_live(
            identity, language, track, backend.sample_rate, attach, on_frame=clock.feed
        )

    async def _relay_translation(
        self,
        session: TranslationSession,
        speaker: str,
        source: str,
        target: str,
        track: rtc.RemoteAudioTrack,
        clock: SpeechClock,
        lost: _Lost,
    ) -> None:
        phrase: _Phrase | None = None
        text: list[str] = []
        """Translated words that came before the phrase's audio."""
        original = ""
        phrases = 0

        def close_phrase() -> None:
            nonlocal phrase
            if phrase is not None:
                phrase.close(clock.ended())
                phrase = None

        async def show(phrase: _Phrase) -> None:
            """The phrase's words so far, as an update of its caption."""
            words = "".join(phrase.words).strip()
            if phrase.unit is not None and words:
                await self._caption_translation(phrase.unit, words, final=False)

        try:
            while True:
                try:
                    async with asyncio.timeout(PHRASE_GAP_S if phrase is not None else None):
                        event = await session.recv()
                except TimeoutError:  # the translation paused: its phrase is complete
                    close_phrase()
                    continue
                if event is None:
                    break
                if isinstance(event, TranslatedAudio):
                    if is_silent(event.frame):
                        if phrase is not None and phrase.pause(event.frame) >= PHRASE_GAP_S:
                            close_phrase()
                        continue
                    if phrase is None:
                        utterance = clock.utterance
                        phrase = _Phrase(text)
                        text = []
                        phrases += 1
                        unit = Unit(
                            speaker=speaker,
                            source=source,
                            target=target,
                            # Each phrase its own caption, updated as its words arrive.
                            segment_id=f"{utterance.segment_id}_{phrases}",
                            translation=phrase.text,
                            speech_start=utterance.start,
                            first=target not in utterance.started,
                            audio=phrase.audio,
                        )
                        utterance.started.add(target)
                        phrase.unit = unit
                        self._tasks.create_task(self._speak(unit))
                        await show(phrase)
                    phrase.send(event.frame)
                elif isinstance(event, TranslatedText):
                    (phrase.words if phrase is not None else text).append(event.delta)
                    if phrase is not None:
                        await show(phrase)
                else:
                    original += event.delta
                    final = ends_sentence(original)  # a session streams the original
                    utterance = clock.utterance
                    await self._caption_source(
                        speaker, source, track, utterance, original.strip(), final
                    )
                    if final:
                        original = ""
        except TranslationError as e:
            logger.warning("translation session into %s: %s", target, e)
            lost(session, type(e).__name__)
        finally:
            close_phrase()

    async def _relay(
        self,
        ev: llm.GenerationCreatedEvent,
        speaker: str,
        source: str,
        target: str,
        utterance: Utterance,
    ) -> None:
        async def text_of(stream: AsyncIterable[str]) -> str:
            return "".join([str(part) async for part in stream]).strip()

        async for message in ev.message_stream:
            unit = Unit(
                speaker=speaker,
                source=source,
                target=target,
                segment_id=utterance.segment_id,
                translation=asyncio.ensure_future(text_of(message.text_stream)),
                speech_start=utterance.start,
                speech_end=utterance.end or time.time(),
                first=True,
                audio=message.audio_stream,
            )
            self._tasks.create_task(self._speak(unit))

    def _dispatch(
        self,
        backend: Backend,
        speaker: str,
        source: str,
        utterance: Utterance,
        text: str,
        *,
        last: bool,
    ) -> None:
        mid_sentence, utterance.mid_sentence = utterance.mid_sentence, not ends_sentence(text)
        for target in self.targets_for(speaker, source):
            unit = Unit(
                speaker=speaker,
                source=source,
                target=target,
                segment_id=utterance.segment_id,
                translation=asyncio.ensure_future(
                    _translated(backend, text, source, target, mid_sentence)
                ),
                speech_start=utterance.start,
                speech_end=(utterance.end or time.time()) if last else None,
                first=target not in utterance.started,
            )
            utterance.started.add(target)
            self._tasks.create_task(self._speak(unit))

    async def _speak(self, unit: Unit) -> None:
        track = await self._track(unit.target)
        track.enqueue(unit)
        played = await unit.played
        if played is None:
            return
        lag = UtteranceLag(speaker=unit.speaker, target_language=unit.target)
        if unit.first:
            lag.start_s = played[0] - unit.speech_start
            lag.recognise_s = unit.cut_at - unit.speech_start
            if unit.translated_at is not None:
                lag.translate_s = unit.translated_at - unit.cut_at
                lag.voice_s = played[0] - unit.translated_at
        if unit.speech_end is not None:
            lag.end_s = played[1] - unit.speech_end
        if lag.start_s is not None or lag.end_s is not None:
            self.lag.add(lag)

    def _outage(self, part: str, key: str) -> Callable[[str | None], None]:
        def told(error: str | None) -> None:
            if self._on_outage is not None:
                self._on_outage(part, key, error)

        return told

    # --- captions ------------------------------------------------------------------------

    async def _caption_source(
        self,
        identity: str,
        language: str,
        track: rtc.RemoteAudioTrack,
        utterance: Utterance,
        text: str,
        final: bool,
    ) -> None:
        await self._send_caption(
            text,
            {
                ATTRIBUTE_TRANSCRIPTION_FINAL: str(final).lower(),
                ATTRIBUTE_TRANSCRIPTION_SEGMENT_ID: utterance.segment_id,
                ATTRIBUTE_TRANSCRIPTION_TRACK_ID: track.sid,
                self._opts.captions.speaker: identity,
                self._opts.captions.source_language: language,
            },
        )

    async def _caption_translation(self, unit: Unit, text: str, final: bool = True) -> None:
        listeners = [
            p.identity
            for p in participants.humans(self._room)
            if self.language_of(p) == unit.target and p.identity != unit.speaker
        ]
        track = self._tracks.get(unit.target)
        await self._send_caption(
            text,
            {
                ATTRIBUTE_TRANSCRIPTION_FINAL: str(final).lower(),
                ATTRIBUTE_TRANSCRIPTION_SEGMENT_ID: f"{unit.segment_id}-{unit.target}",
                ATTRIBUTE_TRANSCRIPTION_TRACK_ID: track.sid if track else "",
                self._opts.captions.speaker: unit.speaker,
                self._opts.captions.source_language: unit.source,
                self._opts.captions.target_language: unit.target,
            },
            listeners,
        )

    async def _send_caption(
        self, text: str, attributes: dict[str, str], to: list[str] | None = None
    ) -> None:
        if to == []:
            return
        with contextlib.suppress(Exception):  # a caption lost must not stop the interpretation
            await self._room.local_participant.send_text(
                text, topic=TOPIC_TRANSCRIPTION, attributes=attributes, destination_identities=to
            )


async def _translated(
    backend: Backend, text: str, source: str, target: str, mid_sentence: bool
) -> str:
    translation = await backend.translate(text, source, target)
    return continued(text, translation) if mid_sentence else translation
