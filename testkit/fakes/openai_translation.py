"""Fake OpenAI realtime translation on the WebSocket ``GET /v1/realtime/translations``.

One WebSocket is one session of ``?model=``; the first event is ``session.created``.
``session.update`` may set only ``audio.output.language``, ``audio.input.transcription`` and
``audio.input.noise_reduction`` (anything else is an ``invalid_request_error`` naming the
param, as is a language espeak-ng has no voice for) and is answered by ``session.updated``;
audio before a target language is set is an error. ``session.input_audio_buffer.append``
takes base64 24 kHz PCM16 (an odd byte count is an error). What it hears is translated by
``fakes.translation_engine``: ``session.output_audio.delta`` (200 ms frames),
``session.output_transcript.delta`` and, with transcription on,
``session.input_transcript.delta``, each with ``elapsed_ms``. ``session.close`` flushes the
rest at once, then ``session.closed``.

Faults of stage ``translation``: ``http`` / ``stall`` refuse a session; ``close`` drops a live
one after ``after_events`` events.
"""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .faults import LIVE, ON_CONNECT, Fault, http_answer
from .openai_http import PROVIDER, SAMPLE_RATE, Json, auth_error, new_id
from .record import Recorder
from .translation_engine import Output, TranslationEngine, voice_exists

UPDATABLE = {"audio.output.language", "audio.input.transcription", "audio.input.noise_reduction"}
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
EVENTS = {
    "audio": "session.output_audio.delta",
    "translation": "session.output_transcript.delta",
    "source": "session.input_transcript.delta",
}


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


@dataclass
class _Session:
    ws: web.WebSocketResponse
    recorder: Recorder
    model: str
    id: str = field(default_factory=lambda: new_id("sess"))
    language: str | None = None
    transcription: Json | None = None
    noise_reduction: Json | None = None
    engine: TranslationEngine | None = None
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
                await self._emit(self.engine.flush() if self.engine else [])
                await self._send("session.closed")
                await self.ws.close()
            else:
                await self._error("invalid_value", f"Invalid value: '{kind}'.", event, "type")
        total_ms = self.engine.now_ms if self.engine else 0
        self.recorder.add(
            PROVIDER,
            "translation.session.closed",
            session_id=self.id,
            language=self.language,
            total_ms=total_ms,
        )

    async def _update(self, event: Json) -> None:
        session = event.get("session") or {}
        for path in _paths(session):
            if path not in UPDATABLE:
                await self._error("unknown_parameter", f"Unknown parameter: '{path}'.", event, path)
                return
        audio = session.get("audio") or {}
        language = (audio.get("output") or {}).get("language", self.language)
        if language is not None and not (LANGUAGE.match(language) and voice_exists(language)):
            param = "session.audio.output.language"
            await self._error("invalid_value", f"Unsupported language '{language}'.", event, param)
            return
        inputs = audio.get("input") or {}
        self.language = language
        self.transcription = inputs.get("transcription", self.transcription)
        self.noise_reduction = inputs.get("noise_reduction", self.noise_reduction)
        if language is not None:
            self.engine = self.engine or TranslationEngine(self.recorder, language, SAMPLE_RATE)
            self.engine.language = language
            self.engine.transcribe = self.transcription is not None
        self.recorder.add(PROVIDER, "translation.session.update", session_id=self.id, **session)
        await self._send("session.updated", session=self.config())

    async def _append(self, event: Json) -> None:
        if self.engine is None:
            message = "Set session.audio.output.language before sending audio."
            await self._error("missing_language", message, event, "session.audio.output.language")
            return
        data = base64.b64decode(event.get("audio", ""))
        if len(data) % 2:
            await self._error("invalid_audio", "Audio must be 24 kHz PCM16 mono.", event, "audio")
            return
        await self._emit(self.engine.feed(data))

    async def _emit(self, outputs: list[Output]) -> None:
        for out in outputs:
            if out.kind == "audio":
                assert isinstance(out.data, bytes)
                await self._send(
                    EVENTS["audio"],
                    delta=base64.b64encode(out.data).decode(),
                    sample_rate=SAMPLE_RATE,
                    channels=1,
                    format="pcm16",
                    elapsed_ms=out.elapsed_ms,
                )
            elif out.kind in EVENTS:
                await self._send(EVENTS[out.kind], delta=out.data, elapsed_ms=out.elapsed_ms)

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
