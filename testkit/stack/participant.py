"""A real LiveKit participant for tests and benchmarks: it speaks a recording, listens to the
agent, collects ``lk.transcription`` text, and times voice-to-voice from its own side.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from livekit import rtc
from livekit.agents import utils
from livekit.plugins.participants import is_agent

from agent.protocol import AGENT_STATE
from fakes.audio import read_wav, resample, rms_dbfs, voiced_span

SAMPLE_RATE = 48000
FRAME_MS = 20
"""Frames of 20 ms, as WebRTC microphones send them; half the wake-ups of 10 ms."""
SILENCE_DBFS = -50.0
"""Agent frames louder than this count as sound (its idle track carries digital silence)."""


def quiet_ends_s(samples: np.ndarray, rate: int) -> tuple[float, float]:
    """How long the recording is quiet before its first voiced frame and after its last."""
    first, last = voiced_span(samples, rate, FRAME_MS)
    return first / rate, (len(samples) - last) / rate


TRANSCRIPTION_TOPIC = "lk.transcription"


async def wait_for(predicate: Callable[..., object], what: str, timeout: float = 45.0) -> None:
    """Polls ``predicate`` until it holds; ``TimeoutError(what)`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.05)


@dataclass
class Transcript:
    identity: str
    text: str
    attributes: dict[str, str]
    received: float = 0.0
    """Monotonic arrival time."""

    @property
    def final(self) -> bool:
        return self.attributes.get("lk.transcription_final") == "true"


_Utterance = tuple[np.ndarray, tuple[float, float], asyncio.Future[None]]
"""Samples, (leading, trailing) quiet in seconds, and the future set once it was said."""


@dataclass
class Participant:
    room: rtc.Room = field(default_factory=rtc.Room)
    transcripts: list[Transcript] = field(default_factory=list)
    agent_frames: list[tuple[float, np.ndarray]] = field(default_factory=list)
    """Every agent audio frame (arrival time, int16 samples at ``rate``): what we heard."""
    heard_tracks: set[str] = field(default_factory=set)
    """Names of the agent's audio tracks we are subscribed to now."""
    sound_by_track: dict[str, list[float]] = field(default_factory=dict)
    """Agent track name → arrival times of its non-silent frames."""
    agent_states: list[tuple[float, str]] = field(default_factory=list)
    """Each ``lk.agent.state`` the agent set (arrival time, state), in order."""
    texts: dict[str, list[Transcript]] = field(default_factory=dict)
    """Topic → text streams received on it, for topics asked with ``watch``."""
    speech_start: float | None = None
    """Monotonic time the latest recording's first voiced frame was handed to WebRTC: the
    user's first word, not the quiet some recordings start with."""
    speech_end: float | None = None
    """Monotonic time the recording's last voiced frame was handed to WebRTC: the end of the
    user's last word, not of the quiet tail some recordings carry."""
    rate: int = SAMPLE_RATE
    """What this participant's microphone and ears work at (a phone: 8 kHz)."""
    listen_frame_ms: int | None = None
    """The frames the agent's audio is read in (a phone line: its packets); None: as the
    SDK delivers them."""
    _tasks: utils.aio.TaskSet = field(default_factory=utils.aio.TaskSet)
    _publishing: asyncio.Task[None] | None = None
    _utterances: asyncio.Queue[_Utterance] = field(default_factory=asyncio.Queue)

    async def join(self, url: str, jwt: str, *, auto_subscribe: bool = True) -> None:
        """``auto_subscribe=False``: a participant that only talks, so a bench with many
        of them on this machine does not spend its CPU decoding everyone's audio."""
        self.room.on("track_subscribed", self._on_track)
        self.room.on("track_unsubscribed", lambda track, *_: self.heard_tracks.discard(track.name))
        self.room.on("participant_attributes_changed", self._on_attributes)
        self.texts[TRANSCRIPTION_TOPIC] = self.transcripts
        self.watch(TRANSCRIPTION_TOPIC)
        await self.room.connect(url, jwt, rtc.RoomOptions(auto_subscribe=auto_subscribe))

    # --- listening ---------------------------------------------------------------------

    def _on_track(
        self, track: rtc.Track, _pub: rtc.RemoteTrackPublication, who: rtc.RemoteParticipant
    ) -> None:
        if track.kind == rtc.TrackKind.KIND_AUDIO and is_agent(who):
            self._tasks.create_task(self._listen(track))

    async def _listen(self, track: rtc.Track) -> None:
        self.heard_tracks.add(track.name)
        sounds = self.sound_by_track.setdefault(track.name, [])
        stream = rtc.AudioStream(
            track, sample_rate=self.rate, num_channels=1, frame_size_ms=self.listen_frame_ms
        )
        async for event in stream:
            at, samples = self.heard(time.monotonic(), np.frombuffer(event.frame.data, np.int16))
            self.agent_frames.append((at, samples))
            if rms_dbfs(samples) > SILENCE_DBFS:
                sounds.append(at)

    def _on_attributes(self, changed: dict[str, str], who: rtc.Participant) -> None:
        if AGENT_STATE in changed and isinstance(who, rtc.RemoteParticipant) and is_agent(who):
            self.agent_states.append((time.monotonic(), changed[AGENT_STATE]))

    def heard(self, at: float, samples: np.ndarray) -> tuple[float, np.ndarray]:
        """What reaches our ear of a frame the agent sent, and when (a phone line delays
        and degrades it); a WebRTC client hears it as it arrives."""
        return at, samples

    def said(self, samples: np.ndarray) -> np.ndarray:
        """What leaves our microphone for the room of a frame we say (a phone line's codec
        and losses); a WebRTC client sends it as it is."""
        return samples

    def watch(self, topic: str) -> list[Transcript]:
        """Collects the text streams of ``topic`` (with their arrival time as ``received``)."""
        received = self.texts.setdefault(topic, [])
        # Handlers must be registered before the room connects, or early streams are lost.

        def on_text(reader: rtc.TextStreamReader, identity: str) -> None:
            async def read() -> None:
                text = await reader.read_all()
                attributes = dict(reader.info.attributes or {})
                received.append(Transcript(identity, text, attributes, time.monotonic()))

            self._tasks.create_task(read())

        self.room.register_text_stream_handler(topic, on_text)
        return received

    def agent(self) -> rtc.RemoteParticipant | None:
        return next((p for p in self.room.remote_participants.values() if is_agent(p)), None)

    async def wait_for_agent_attribute(self, name: str, timeout: float = 30.0) -> str:
        """The agent's attribute ``name`` once it is set (e.g. ``lk.agent.state``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            agent = self.agent()
            if agent is not None and agent.attributes.get(name):
                return agent.attributes[name]
            await asyncio.sleep(0.05)
        raise TimeoutError(f"the agent did not set attribute {name!r} within {timeout}s")

    async def wait_for_agent_track(self, name: str, timeout: float = 60.0) -> None:
        """Until we receive the agent's audio track ``name``."""
        deadline = time.monotonic() + timeout
        while name not in self.heard_tracks:
            if time.monotonic() > deadline:
                raise TimeoutError(f"not subscribed to the agent's {name!r} within {timeout}s")
            await asyncio.sleep(0.05)

    async def wait_for_agent_state(self, state: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while await self.wait_for_agent_attribute(AGENT_STATE, timeout) != state:
            if time.monotonic() > deadline:
                raise TimeoutError(f"agent never reached state {state!r}")
            await asyncio.sleep(0.05)

    @property
    def agent_sound_times(self) -> list[float]:
        """Monotonic arrival time of each non-silent agent audio frame, on any track."""
        return sorted(t for times in self.sound_by_track.values() for t in times)

    def agent_audio_after(self, t: float) -> np.ndarray:
        """What the agent said after monotonic time ``t``, as int16 at ``rate``."""
        heard = [samples for at, samples in self.agent_frames if at > t]
        return np.concatenate(heard) if heard else np.zeros(0, dtype=np.int16)

    def agent_sound_after(self, t: float) -> float | None:
        return next((s for s in self.agent_sound_times if s > t), None)

    async def wait_for_agent_sound(self, timeout: float = 30.0) -> float:
        """Seconds from the end of our speech to the first non-silent agent frame after it."""
        assert self.speech_end is not None, "speak() first"
        deadline = time.monotonic() + timeout
        while (first := self.agent_sound_after(self.speech_end)) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no agent audio within {timeout}s of the end of our speech")
            await asyncio.sleep(0.01)
        return first - self.speech_end

    async def wait_for_agent_quiet(
        self, after: float = 0.0, quiet_s: float = 0.5, timeout: float = 60.0
    ) -> None:
        """Until the agent made a sound after monotonic time ``after`` and then none for
        ``quiet_s``: what it said has reached us whole (audio arrives after the agent's
        own report that it finished)."""

        def done() -> bool:
            times = self.agent_sound_times
            return bool(times) and times[-1] > after and time.monotonic() - times[-1] > quiet_s

        await wait_for(done, "the agent's words, to their end", timeout)

    async def wait_for_transcripts(
        self, predicate: Callable[[Transcript], bool], timeout: float = 30.0
    ) -> list[Transcript]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [t for t in self.transcripts if predicate(t)]
            if found:
                return found
            await asyncio.sleep(0.05)
        raise TimeoutError(f"no matching transcript within {timeout}s: {self.transcripts}")

    # --- speaking ----------------------------------------------------------------------

    async def speak(self, wav: Path) -> None:
        """Says the recording in real time on our one microphone track (published on first
        use), which carries silence between utterances as a real microphone would."""
        samples, rate = read_wav(await asyncio.to_thread(wav.read_bytes))
        done = asyncio.get_running_loop().create_future()
        pcm = resample(samples, rate, self.rate)
        self._utterances.put_nowait((pcm, quiet_ends_s(pcm, self.rate), done))
        await self.open_microphone()
        await done

    async def open_microphone(self) -> None:
        """Publishes the microphone track, which sends silence until something is said."""
        if self._publishing is None:
            source = rtc.AudioSource(self.rate, 1)
            track = rtc.LocalAudioTrack.create_audio_track("microphone", source)
            options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
            await self.room.local_participant.publish_track(track, options)
            self._publishing = asyncio.create_task(self._stream(source))

    async def _stream(self, source: rtc.AudioSource) -> None:
        n = self.rate * FRAME_MS // 1000
        silence = np.zeros(n, dtype=np.int16)
        pcm, quiet, done = np.zeros(0, dtype=np.int16), (0.0, 0.0), None
        start = time.monotonic()
        i = sent = 0
        # Paced by the wall clock so "speech end" is when the last word really left us.
        while True:
            if sent >= pcm.size and done is None and not self._utterances.empty():
                (pcm, quiet, done), sent = self._utterances.get_nowait(), 0
                self.speech_start = time.monotonic() + quiet[0]
            chunk = pcm[sent : sent + n]
            sent += n
            if chunk.size < n:
                if done is not None:
                    self.speech_end = time.monotonic() - quiet[1]
                    done.set_result(None)
                    done = None
                chunk = np.concatenate([chunk, silence[: n - chunk.size]])
            sent_frame = self.said(chunk)
            await source.capture_frame(rtc.AudioFrame(sent_frame.tobytes(), self.rate, 1, n))
            i += 1
            await asyncio.sleep(max(0.0, start + i * FRAME_MS / 1000 - time.monotonic()))

    async def leave(self) -> None:
        """Idempotent: a test may leave early and its room helper leaves again at the end."""
        for task in [self._publishing, *self._tasks.tasks]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self.room.isconnected():
            await self.room.disconnect()
