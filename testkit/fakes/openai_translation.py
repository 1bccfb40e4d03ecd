"""Fake OpenAI realtime translation on the WebSocket ``GET /v1/realtime/translations``.

One WebSocket is one session of ``?model=``; the first event is ``session.created``.
``session.update`` may set only ``audio.output.language``, ``audio.input.transcription`` and
``audio.input.noise_reduction`` (anything else is an ``invalid_request_error`` naming the
param) and is answered by ``session.updated``; audio before a target language is set is an
error. ``session.input_audio_buffer.append`` takes base64 24 kHz PCM16 (an odd byte count is
an error), consumed in 200 ms engine frames.

The fake understands nothing. An energy VAD hears phrases; ``translation_lag_ms`` of audio
after a phrase starts, the fake starts speaking its translation — ``settings.translations``
in order, else ``settings.reply_text`` — as real speech in the target language (espeak-ng's
voice for it) in 200 ms ``session.output_audio.delta`` frames, one for each engine frame it
is sent (the engine runs on the audio it gets, so a client that stops sending stops it), with
the words as ``session.output_transcript.delta`` spread over the audio. Phrases that
overlap their predecessor's translation queue behind it. With ``audio.input.transcription``
set, the phrase's source text (``settings.transcripts``, else "I said something for N
seconds") comes as ``session.input_transcript.delta`` words when the phrase ends.
``session.close`` flushes the rest at once, then ``session.closed``.

Faults of stage ``translation``: ``http`` / ``stall`` refuse a session; ``close`` drops a live
one after ``after_events`` events.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .audio import EnergyVad, speak
from .faults import LIVE, ON_CONNECT, Fault, http_answer
from .openai_http import PROVIDER, SAMPLE_RATE, Json, auth_error, fake_transcript, new_id, words
from .record import Recorder

FRAME_MS = 200
FRAME_BYTES = SAMPLE_RATE * 2 * FRAME_MS // 1000
PHRASE_SILENCE_MS = 400
"""A pause this long ends a phrase (the fake's stand-in for the engine's segmentation)."""
UPDATABLE = {"audio.output.language", "audio.input.transcription", "audio.input.noise_reduction"}
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def routes(recorder: Recorder) -> list[web.RouteDef]:
    async def translations(request: web.Request) -> web.StreamResponse:
        if denied := auth_error(request):
            return denied
        if (fault := recorder.fault("translation", ON_CONNECT)) is not None:
            return await http_answer(request, fault)
        ws = web.WebSocketResponse(max_msg_size=64 * 1024 * 1024)
        await ws.prepare(request)
        await _Session(ws, recorder, request.query.get("model", "")).run()
        return ws

    return [web.get("/v1/realtime/translations", translations)]


def _paths(tree: Json, prefix: str = "") -> list[str]:
    """Leaf paths of an update (an object holding a ``model`` or ``type`` is a leaf)."""
    out: list[str] = []
    for key, value in tree.items():
        path = f"{prefix}{key}"
        leaf = not isinstance(value, dict) or "model" in value or "type" in value
        out += [path] if leaf else _paths(value, path + ".")
    return out


def _voice_exists(language: str) -> bool:
    try:
        speak("a", SAMPLE_RATE, language.split("-")[0])
    except subprocess.CalledProcessError:
        return False
    return True


@dataclass
class _Speech:
    """One phrase's translation, being sent a frame at a time."""

    pcm: bytes
    words: deque[str]
    sent: int = 0

    @property
    def done(self) -> bool:
        return self.sent >= len(self.pcm)


@dataclass
class _Session:
    ws: web.WebSocketResponse
    recorder: Recorder
    model: str
    id: str = field(default_factory=lambda: new_id("sess"))
    language: str | None = None
    transcription: Json | None = None
    noise_reduction: Json | None = None
    pending: bytearray = field(default_factory=bytearray)
    frames: int = 0
    """Engine frames consumed: the session's clock is ``frames * FRAME_MS``."""
    vad: EnergyVad = field(
        default_factory=lambda: EnergyVad(SAMPLE_RATE, silence_ms=PHRASE_SILENCE_MS)
    )
    phrase_start_ms: int | None = None
    due: deque[tuple[int, _Speech]] = field(default_factory=deque)
    """Translations that start once the clock reaches their time."""
    speaking: deque[_Speech] = field(default_factory=deque)
    fault: Fault | None = None
    sent_events: int = 0

    def config(self) -> Json:
        return {
            "id": self.id,
            "type": "translation",
            "model": self.model,
            "expires_at": int(time.time()) + 3600,
            "audio": {
                "input": {
                    "transcription": self.transcription,
                    "noise_reduction": self.noise_reduction,
                },
                "output": {"language": self.language},
            },
        }

    async def run(self) -> None:
        self.recorder.add(PROVIDER, "translation.session", session_id=self.id, model=self.model)
        await self._send("session.created", session=self.config())
        async for msg in self.ws:
            if msg.type != WSMsgType.TEXT:
                continue
            event = json.loads(msg.data)
            kind = event.get("type")
            if kind == "session.update":
                await self._update(event)
            elif kind == "session.input_audio_buffer.append":
                await self._append(event)
            elif kind == "session.close":
                await self._flush()
                await self._send("session.closed")
                await self.ws.close()
            else:
                await self._error("invalid_value", f"Invalid value: '{kind}'.", event, "type")
        self.recorder.add(
            PROVIDER,
            "translation.session.closed",
            session_id=self.id,
            language=self.language,
            total_ms=self.frames * FRAME_MS,
        )

    async def _update(self, event: Json) -> None:
        session = event.get("session") or {}
        for path in _paths(session):
            if path not in UPDATABLE:
                await self._error("unknown_parameter", f"Unknown parameter: '{path}'.", event, path)
                return
        audio = session.get("audio") or {}
        language = (audio.get("output") or {}).get("language", self.language)
        if language is not None and not (LANGUAGE.match(language) and _voice_exists(language)):
            param = "session.audio.output.language"
            await self._error("invalid_value", f"Unsupported language '{language}'.", event, param)
            return
        inputs = audio.get("input") or {}
        self.language = language
        self.transcription = inputs.get("transcription", self.transcription)
        self.noise_reduction = inputs.get("noise_reduction", self.noise_reduction)
        self.recorder.add(PROVIDER, "translation.session.update", session_id=self.id, **session)
        await self._send("session.updated", session=self.config())

    async def _append(self, event: Json) -> None:
        if self.language is None:
            message = "Set session.audio.output.language before sending audio."
            await self._error("missing_language", message, event, "session.audio.output.language")
            return
        data = base64.b64decode(event.get("audio", ""))
        if len(data) % 2:
            await self._error("invalid_audio", "Audio must be 24 kHz PCM16 mono.", event, "audio")
            return
        self.pending += data
        while len(self.pending) >= FRAME_BYTES:
            frame, self.pending = bytes(self.pending[:FRAME_BYTES]), self.pending[FRAME_BYTES:]
            await self._engine_frame(frame)

    async def _engine_frame(self, frame: bytes) -> None:
        now_ms = self.frames * FRAME_MS
        self.frames += 1
        for kind, at_ms in self.vad.feed(frame):
            self.recorder.add(PROVIDER, f"translation.{kind}", session_id=self.id, at_ms=at_ms)
            if kind == "speech_started":
                self.phrase_start_ms = at_ms
                lag = self.recorder.settings.translation_lag_ms
                self.due.append((at_ms + lag, self._translation()))
            elif self.phrase_start_ms is not None:
                await self._source_text(at_ms - self.phrase_start_ms, now_ms)
                self.phrase_start_ms = None
        while self.due and self.due[0][0] <= now_ms:
            self.speaking.append(self.due.popleft()[1])
        await self._speak_frame(now_ms)

    def _translation(self) -> _Speech:
        settings = self.recorder.settings
        text = settings.translations.pop(0) if settings.translations else settings.reply_text
        assert self.language is not None
        return _Speech(speak(text, SAMPLE_RATE, self.language.split("-")[0]), deque(words(text)))

    async def _speak_frame(self, now_ms: int) -> None:
        """One frame of the translation under way, and its share of the words."""
        if not self.speaking:
            return
        speech = self.speaking[0]
        chunk = speech.pcm[speech.sent : speech.sent + FRAME_BYTES]
        speech.sent += len(chunk)
        frames_left = -(-(len(speech.pcm) - speech.sent) // FRAME_BYTES)
        share = len(speech.words) if frames_left == 0 else -(-len(speech.words) // frames_left)
        for _ in range(min(share, len(speech.words))):
            delta = speech.words.popleft()
            await self._send("session.output_transcript.delta", delta=delta, elapsed_ms=now_ms)
        await self._send(
            "session.output_audio.delta",
            delta=base64.b64encode(chunk).decode(),
            sample_rate=SAMPLE_RATE,
            channels=1,
            format="pcm16",
            elapsed_ms=now_ms,
        )
        if speech.done:
            self.speaking.popleft()

    async def _source_text(self, voiced_ms: int, now_ms: int) -> None:
        if self.transcription is None:
            return
        for delta in words(self.recorder.transcript(fake_transcript(voiced_ms))):
            await self._send("session.input_transcript.delta", delta=delta, elapsed_ms=now_ms)

    async def _flush(self) -> None:
        """``session.close``: what is still to say is said now."""
        if self.phrase_start_ms is not None:
            await self._source_text(self.frames * FRAME_MS - self.phrase_start_ms, 0)
        self.speaking.extend(speech for _, speech in self.due)
        self.due.clear()
        while self.speaking and not self.ws.closed:
            await self._speak_frame(self.frames * FRAME_MS)

    async def _send(self, type_: str, **fields: Any) -> None:
        if self.ws.closed:
            return
        if self.fault is None:
            self.fault, self.sent_events = self.recorder.fault("translation", LIVE), 0
        await self.ws.send_json({"type": type_, "event_id": new_id("event"), **fields})
        self.sent_events += 1
        if self.fault is not None and self.sent_events >= self.fault.after_events:
            self.recorder.add("fakes", "fault.struck", stage="translation", fault=self.fault.kind)
            self.fault = None
            await self.ws.close(code=1011, message=b"fake fault")

    async def _error(self, code: str, message: str, event: Json, param: str) -> None:
        error = {
            "type": "invalid_request_error",
            "code": code,
            "message": message,
            "param": param,
            "event_id": event.get("event_id"),
        }
        await self._send("error", error=error)
