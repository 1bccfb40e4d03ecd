"""Fake OpenAI Realtime API (GA event names only) on the WebSocket ``GET /v1/realtime``.

One WebSocket is one session. ``?intent=transcription`` opens a transcription session (what
``openai.STT(use_realtime=True)`` uses): the same audio handling, but never a response.

Audio arrives as ``input_audio_buffer.append`` (base64 pcm16, 24 kHz). With ``turn_detection``
set, an energy VAD plays the server VAD: ``speech_started`` (cancelling a reply in progress
unless ``interrupt_response`` is false), then ``speech_stopped``, ``committed``, the user item,
its transcript when ``audio.input.transcription`` is set, and a response unless
``create_response`` is false. With ``turn_detection: null`` the client commits and asks for
``response.create`` itself.

A response is ``settings.reply_text``: real speech in 100 ms ``response.output_audio.delta``
chunks, paced a little faster than real time, with its transcript as word deltas (or only
``response.output_text.delta`` for the text modality), then ``response.done`` with a usage
block: user audio costs 1 token per 100 ms, agent audio 1 token per 50 ms, and the input that a
previous response already read counts as cached.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from aiohttp import WSMsgType, web

from .audio import EnergyVad, rms_dbfs, speak, voiced_span
from .faults import LIVE, ON_CONNECT, Fault, Stage, http_answer
from .openai_http import (
    AGENT_AUDIO_MS_PER_TOKEN,
    PROVIDER,
    SAMPLE_RATE,
    USER_AUDIO_MS_PER_TOKEN,
    WORD_INTERVAL_S,
    Json,
    audio_tokens,
    auth_error,
    fake_transcript,
    new_id,
    speech_ms,
    text_tokens,
    words,
)
from .record import Recorder, ToolCall

BYTES_PER_MS = SAMPLE_RATE * 2 // 1000
CHUNK_MS = 100
SPEEDUP = 1.5
"""The real service streams reply audio faster than it plays; the client paces playout."""
MIN_COMMIT_MS = 100
SILENT_DBFS = -50.0
"""Reply audio under this is the silence before its first word (as a client hears it)."""
DEFAULT_SILENCE_MS = 500
DEFAULT_PREFIX_PADDING_MS = 300
# the fake has no semantic model: semantic_vad's eagerness becomes a fixed silence
SEMANTIC_SILENCE_MS = {"low": 1200, "medium": 600, "auto": 600, "high": 300}
AUDIO_FORMAT: Json = {"type": "audio/pcm", "rate": SAMPLE_RATE}
DEFAULT_TURN_DETECTION: Json = {
    "type": "server_vad",
    "threshold": 0.5,
    "prefix_padding_ms": DEFAULT_PREFIX_PADDING_MS,
    "silence_duration_ms": DEFAULT_SILENCE_MS,
    "idle_timeout_ms": None,
    "create_response": True,
    "interrupt_response": True,
}


def routes(recorder: Recorder) -> list[web.RouteDef]:
    async def realtime(request: web.Request) -> web.StreamResponse:
        if denied := auth_error(request):
            return denied
        transcription_only = request.query.get("intent") == "transcription"
        stage: Stage = "stt" if transcription_only else "realtime"
        if (fault := recorder.fault(stage, ON_CONNECT)) is not None:
            return await http_answer(request, fault)  # the session is refused
        ws = web.WebSocketResponse(max_msg_size=64 * 1024 * 1024)
        await ws.prepare(request)
        session = _Session(ws, recorder, request.query.get("model", ""), transcription_only)
        await session.run()
        return ws

    return [web.get("/v1/realtime", realtime)]


@dataclass
class _Item:
    data: Json
    """The item as the server reports it."""
    text_tokens: int = 0
    audio_ms: int = 0

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def audio_tokens(self) -> int:
        rate = (
            AGENT_AUDIO_MS_PER_TOKEN
            if self.data.get("role") == "assistant"
            else USER_AUDIO_MS_PER_TOKEN
        )
        return audio_tokens(self.audio_ms, rate)


@dataclass(frozen=True)
class _Tokens:
    text: int = 0
    audio: int = 0


@dataclass
class _Response:
    id: str
    trigger: str
    """Who asked for it: "server_vad" (a detected turn) or "client" (response.create)."""
    modalities: list[str]
    metadata: Any
    input: _Tokens
    created_at: float
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    cancel_reason: str = ""
    item: _Item | None = None
    transcript: str = ""
    task: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        return self.task is not None and not self.task.done() and not self.cancel.is_set()

    def part_ids(self) -> Json:
        assert self.item is not None
        return {
            "response_id": self.id,
            "item_id": self.item.id,
            "output_index": 0,
            "content_index": 0,
        }


def _default_session(session_id: str, model: str, transcription_only: bool) -> Json:
    audio_input: Json = {
        "format": AUDIO_FORMAT,
        "transcription": None,
        "noise_reduction": None,
        "turn_detection": DEFAULT_TURN_DETECTION,
    }
    if transcription_only:
        return {
            "type": "transcription",
            "object": "realtime.transcription_session",
            "id": session_id,
            "audio": {"input": audio_input},
            "include": None,
        }
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": session_id,
        "model": model,
        "output_modalities": ["audio"],
        "instructions": "",
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "truncation": "auto",
        "prompt": None,
        "expires_at": int(time.time()) + 3600,
        "audio": {
            "input": audio_input,
            "output": {"format": AUDIO_FORMAT, "voice": "alloy", "speed": 1.0},
        },
        "include": None,
    }


def _merge(dst: Json, src: Json) -> None:
    """Applies a ``session.update``: typed objects (with a ``type``) replace, others merge."""
    for key, value in src.items():
        if isinstance(value, dict) and "type" not in value and isinstance(dst.get(key), dict):
            _merge(dst[key], value)
        else:
            dst[key] = copy.deepcopy(value)


def _silence_ms(turn_detection: Json) -> int:
    if turn_detection.get("type") == "semantic_vad":
        return SEMANTIC_SILENCE_MS.get(turn_detection.get("eagerness") or "auto", 600)
    return int(turn_detection.get("silence_duration_ms") or DEFAULT_SILENCE_MS)


def _content_tokens(content: list[Json]) -> tuple[int, int]:
    """Text tokens and audio milliseconds of a client-created item's content."""
    text = " ".join(str(part.get("text") or part.get("transcript") or "") for part in content)
    audio_bytes = sum(len(base64.b64decode(part.get("audio") or "")) for part in content)
    return text_tokens(text), audio_bytes // BYTES_PER_MS


def _item_summary(item: Json) -> str:
    if item.get("type") == "message":
        parts = item.get("content") or []
        return " ".join(str(p.get("text") or p.get("transcript") or "") for p in parts)[:120]
    return str(item.get("output") or item.get("arguments") or "")[:120]


def _usage(input_tokens: _Tokens, cached: _Tokens, output: _Tokens) -> Json:
    input_total = input_tokens.text + input_tokens.audio
    output_total = output.text + output.audio
    return {
        "total_tokens": input_total + output_total,
        "input_tokens": input_total,
        "output_tokens": output_total,
        "input_token_details": {
            "text_tokens": input_tokens.text,
            "audio_tokens": input_tokens.audio,
            "image_tokens": 0,
            "cached_tokens": cached.text + cached.audio,
            "cached_tokens_details": {
                "text_tokens": cached.text,
                "audio_tokens": cached.audio,
                "image_tokens": 0,
            },
        },
        "output_token_details": {"text_tokens": output.text, "audio_tokens": output.audio},
    }


class _Session:
    def __init__(
        self, ws: web.WebSocketResponse, recorder: Recorder, model: str, transcription_only: bool
    ) -> None:
        self.ws = ws
        self.recorder = recorder
        self.id = new_id("sess")
        self.conversation_id = new_id("conv")
        self.transcription_only = transcription_only
        self.stage: Stage = "stt" if transcription_only else "realtime"
        self.config = _default_session(self.id, model, transcription_only)
        self.items: list[_Item] = []
        self.buffer = bytearray()
        self.received_bytes = 0
        self.voiced_at = 0.0
        """Wall time the latest append carrying speech arrived (a bench's hop trace)."""
        self.turns = 0
        self.vad: EnergyVad | None = None
        self.vad_config: Json | None = None
        self.vad_origin_ms = 0
        self.speech_item_id: str | None = None
        self.response: _Response | None = None
        self.last_input = _Tokens()
        self.fault: Fault | None = None
        """A live fault, due after its ``after_events`` events."""
        self.sent = 0
        """Events sent since the fault was taken up."""
        self.silent_until = 0.0
        """A ``silent`` fault: nothing is sent before this (monotonic) time."""
        self.handlers: dict[str, Callable[[Json], Awaitable[None]]] = {
            "session.update": self._on_session_update,
            "input_audio_buffer.append": self._on_append,
            "input_audio_buffer.commit": self._on_commit,
            "input_audio_buffer.clear": self._on_clear,
            "conversation.item.create": self._on_item_create,
            "conversation.item.delete": self._on_item_delete,
            "conversation.item.truncate": self._on_item_truncate,
        }
        if not transcription_only:
            self.handlers["response.create"] = self._on_response_create
            self.handlers["response.cancel"] = self._on_response_cancel
        self._sync_vad()

    # -- plumbing --------------------------------------------------------------------------

    async def run(self) -> None:
        self._record("realtime.session", model=self.config.get("model"), intent=self.config["type"])
        await self._send("session.created", session=self.config)
        try:
            async for msg in self.ws:
                if msg.type == WSMsgType.TEXT:
                    await self._dispatch(json.loads(msg.data))
        finally:
            if self.response and self.response.task:
                self.response.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self.response.task
            self._record(
                "realtime.session.closed",
                total_ms=self.received_bytes // BYTES_PER_MS,
                total_bytes=self.received_bytes,
                turns=self.turns,
            )

    async def _dispatch(self, event: Json) -> None:
        handler = self.handlers.get(event.get("type", ""))
        if handler is None:
            await self._error(
                f"Invalid value: '{event.get('type')}'.", "invalid_value", event, "type"
            )
            return
        await handler(event)

    async def _send(self, type_: str, **fields: Any) -> None:
        if self.ws.closed or time.monotonic() < self.silent_until:
            return  # a fault dropped it or keeps it quiet: what it would send goes nowhere
        if self.fault is None and (fault := self.recorder.fault(self.stage, LIVE)) is not None:
            self.fault, self.sent = fault, 0
        await self.ws.send_json({"type": type_, "event_id": new_id("event"), **fields})
        self.sent += 1
        fault = self.fault
        if fault is not None and self.sent >= fault.after_events:
            self.fault = None
            self.recorder.add("fakes", "fault.struck", stage=self.stage, fault=fault.kind)
            if fault.kind == "close":
                await self.ws.close(code=1011, message=b"fake fault")
            elif fault.kind == "silent":
                self.silent_until = time.monotonic() + fault.stall_s
            else:
                await self.ws.send_str('{"type": "response.output_audio.delta", "delta": ')

    async def _error(self, message: str, code: str, event: Json, param: str | None = None) -> None:
        error = {
            "type": "invalid_request_error",
            "code": code,
            "message": message,
            "param": param,
            "event_id": event.get("event_id"),
        }
        await self._send("error", error=error)

    def _record(self, kind: str, **data: Any) -> None:
        self.recorder.add(PROVIDER, kind, session_id=self.id, **data)

    @property
    def _audio_input(self) -> Json:
        audio_input: Json = self.config["audio"]["input"]
        return audio_input

    @property
    def _turn_detection(self) -> Json | None:
        turn_detection: Json | None = self._audio_input.get("turn_detection")
        return turn_detection

    def _find(self, item_id: str) -> int | None:
        return next((i for i, item in enumerate(self.items) if item.id == item_id), None)

    def _last_item_id(self) -> str | None:
        return self.items[-1].id if self.items else None

    # -- session -----------------------------------------------------------------------------

    async def _on_session_update(self, event: Json) -> None:
        update: Json = event.get("session") or {}
        _merge(self.config, update)
        self._sync_vad()
        self._record("realtime.session.update", session=update)
        await self._send("session.updated", session=self.config)

    def _sync_vad(self) -> None:
        """(Re)builds the VAD when turn detection changes; its clock restarts at that point."""
        turn_detection = self._turn_detection
        if turn_detection == self.vad_config:
            return
        self.vad_config = copy.deepcopy(turn_detection)
        self.vad = None
        if turn_detection is not None:
            self.vad = EnergyVad(SAMPLE_RATE, silence_ms=_silence_ms(turn_detection))
        self.vad_origin_ms = self.received_bytes // BYTES_PER_MS

    # -- input audio -------------------------------------------------------------------------

    async def _on_append(self, event: Json) -> None:
        pcm = base64.b64decode(event.get("audio", ""))
        self.received_bytes += len(pcm)
        self.buffer += pcm
        if voiced_span(np.frombuffer(pcm, np.int16), SAMPLE_RATE)[1]:
            self.voiced_at = time.time()
        if self.vad is None:
            return
        for kind, at_ms in self.vad.feed(pcm):
            if kind == "speech_started":
                await self._on_speech_started(self.vad_origin_ms + at_ms)
            else:
                await self._on_speech_stopped(self.vad_origin_ms + at_ms)
        if not self.vad.speaking:
            self._trim_idle_buffer()

    def _prefix_padding_ms(self) -> int:
        turn_detection = self._turn_detection or {}
        return int(turn_detection.get("prefix_padding_ms") or DEFAULT_PREFIX_PADDING_MS)

    def _trim_idle_buffer(self) -> None:
        """Between turns the server VAD keeps only the padding that will precede speech."""
        assert self.vad is not None
        keep_ms = self._prefix_padding_ms() + self.vad.min_speech_ms
        del self.buffer[: max(0, len(self.buffer) - keep_ms * BYTES_PER_MS)]

    async def _on_speech_started(self, at_ms: int) -> None:
        self.speech_item_id = new_id("item")
        await self._send(
            "input_audio_buffer.speech_started",
            audio_start_ms=max(0, at_ms - self._prefix_padding_ms()),
            item_id=self.speech_item_id,
        )
        turn_detection = self._turn_detection or {}
        if (
            self.response
            and self.response.active
            and turn_detection.get("interrupt_response", True)
        ):
            self._cancel_response("turn_detected")

    async def _on_speech_stopped(self, at_ms: int) -> None:
        item_id = self.speech_item_id or new_id("item")
        self.speech_item_id = None
        await self._send("input_audio_buffer.speech_stopped", audio_end_ms=at_ms, item_id=item_id)
        # The end-of-turn delay this provider added: benches subtract it from voice-to-voice.
        self._record(
            "realtime.speech_stopped",
            silence_ms=self.vad.silence_ms if self.vad else 0,
            voiced_at=self.voiced_at,
        )
        if not self.buffer:
            return  # the client committed this turn itself while it was still going
        await self._commit(item_id)
        turn_detection = self._turn_detection or {}
        if not self.transcription_only and turn_detection.get("create_response", True):
            await self._start_response("server_vad", {})

    async def _on_commit(self, event: Json) -> None:
        buffered_ms = len(self.buffer) // BYTES_PER_MS
        if buffered_ms < MIN_COMMIT_MS:
            await self._error(
                "Error committing input audio buffer: buffer too small. Expected at least "
                f"{MIN_COMMIT_MS}ms of audio, but buffer only has {buffered_ms:.2f}ms of audio.",
                "input_audio_buffer_commit_empty",
                event,
            )
            return
        self._record("realtime.commit", voiced_at=self.voiced_at)  # the client ended the turn
        await self._commit(self.speech_item_id or new_id("item"))
        self.speech_item_id = None

    async def _on_clear(self, _: Json) -> None:
        self._record("realtime.clear", ms=len(self.buffer) // BYTES_PER_MS)
        self.buffer.clear()
        await self._send("input_audio_buffer.cleared")

    async def _commit(self, item_id: str) -> None:
        pcm = bytes(self.buffer)
        self.buffer.clear()
        previous = self._last_item_id()
        await self._send("input_audio_buffer.committed", previous_item_id=previous, item_id=item_id)
        data: Json = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "status": "completed",
            "role": "user",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        item = _Item(data, audio_ms=len(pcm) // BYTES_PER_MS)
        self.items.append(item)
        await self._send("conversation.item.added", previous_item_id=previous, item=data)
        await self._send("conversation.item.done", previous_item_id=previous, item=data)
        spoken_ms = speech_ms(pcm, SAMPLE_RATE)
        self.turns += 1
        self._record(
            "realtime.audio",
            item_id=item_id,
            ms=item.audio_ms,
            speech_ms=spoken_ms,
            total_ms=self.received_bytes // BYTES_PER_MS,
            total_bytes=self.received_bytes,
        )
        if self._audio_input.get("transcription") is not None:
            await self._transcribe(item, self.recorder.transcript(fake_transcript(spoken_ms)))

    async def _transcribe(self, item: _Item, transcript: str) -> None:
        ids = {"item_id": item.id, "content_index": 0}
        for delta in words(transcript):
            await self._send(
                "conversation.item.input_audio_transcription.delta", delta=delta, **ids
            )
        item.data["content"][0]["transcript"] = transcript
        heard, written = item.audio_tokens, text_tokens(transcript)
        usage = {
            "type": "tokens",
            "total_tokens": heard + written,
            "input_tokens": heard,
            "input_token_details": {"text_tokens": 0, "audio_tokens": heard},
            "output_tokens": written,
        }
        await self._send(
            "conversation.item.input_audio_transcription.completed",
            transcript=transcript,
            usage=usage,
            **ids,
        )

    # -- conversation items ------------------------------------------------------------------

    async def _on_item_create(self, event: Json) -> None:
        data: Json = {**event.get("item", {}), "object": "realtime.item", "status": "completed"}
        data.setdefault("id", new_id("item"))
        if self._find(data["id"]) is not None:
            await self._error(
                f"Item with id '{data['id']}' already exists.",
                "item_create_duplicate_item_id",
                event,
                "item.id",
            )
            return
        index = await self._insert_index(event)
        if index is None:
            return
        text, audio_ms = _content_tokens(data.get("content") or [])
        if data.get("type") != "message":
            text = text_tokens(str(data.get("output") or data.get("arguments") or ""))
        self.items.insert(index, _Item(data, text_tokens=text, audio_ms=audio_ms))
        previous = self.items[index - 1].id if index else None
        await self._send("conversation.item.added", previous_item_id=previous, item=data)
        await self._send("conversation.item.done", previous_item_id=previous, item=data)
        self._record(
            "realtime.item",
            item_id=data["id"],
            type=data.get("type"),
            role=data.get("role"),
            summary=_item_summary(data),
        )

    async def _insert_index(self, event: Json) -> int | None:
        """Where ``previous_item_id`` puts the item: "root" is the head, none is the tail."""
        previous = event.get("previous_item_id")
        if previous is None:
            return len(self.items)
        if previous == "root":
            return 0
        index = self._find(previous)
        if index is None:
            await self._error(
                f"Invalid 'previous_item_id': '{previous}'. Previous item not found.",
                "invalid_value",
                event,
                "previous_item_id",
            )
            return None
        return index + 1

    async def _on_item_delete(self, event: Json) -> None:
        index = self._find(event.get("item_id", ""))
        if index is None:
            await self._item_not_found(event)
            return
        del self.items[index]
        await self._send("conversation.item.deleted", item_id=event["item_id"])

    async def _on_item_truncate(self, event: Json) -> None:
        index = self._find(event.get("item_id", ""))
        if index is None:
            await self._item_not_found(event)
            return
        item = self.items[index]
        audio_end_ms = int(event.get("audio_end_ms", 0))
        item.audio_ms = min(item.audio_ms, audio_end_ms)
        # the server drops the transcript so the model never reads what the user didn't hear
        item.text_tokens = 0
        self._record("realtime.truncate", item_id=item.id, audio_end_ms=audio_end_ms)
        await self._send(
            "conversation.item.truncated",
            item_id=item.id,
            content_index=event.get("content_index", 0),
            audio_end_ms=audio_end_ms,
        )

    async def _item_not_found(self, event: Json) -> None:
        item_id = event.get("item_id")
        await self._error(
            f"Item with item_id '{item_id}' not found.", "item_not_found", event, "item_id"
        )

    # -- responses -------------------------------------------------------------------------

    async def _on_response_create(self, event: Json) -> None:
        if self.response and self.response.active:
            await self._error(
                f"Conversation already has an active response in progress: {self.response.id}. "
                "Wait until the response is finished before creating a new one.",
                "conversation_already_has_active_response",
                event,
            )
            return
        await self._start_response("client", event.get("response") or {})

    async def _on_response_cancel(self, event: Json) -> None:
        response_id = event.get("response_id")
        response = self.response
        if not (response and response.active and response_id in (None, response.id)):
            await self._error(
                "Cancellation failed: no active response found", "response_cancel_not_active", event
            )
            return
        self._cancel_response("client_cancelled")

    def _cancel_response(self, reason: str) -> None:
        assert self.response is not None
        self.response.cancel_reason = reason
        self.response.cancel.set()

    def _input_tokens(self, instructions: str) -> _Tokens:
        """What the model reads for a response: the conversation, instructions and tools."""
        tools = self.config.get("tools") or []
        text = text_tokens(instructions) + (text_tokens(json.dumps(tools)) if tools else 0)
        text += sum(item.text_tokens for item in self.items)
        return _Tokens(text=text, audio=sum(item.audio_tokens for item in self.items))

    async def _start_response(self, trigger: str, params: Json) -> None:
        if self.response and self.response.task and not self.response.task.done():
            if self.response.active:
                return  # a turn detected during an uninterruptible reply gets no reply of its own
            await self.response.task  # a cancelled reply finishes before the next one starts
        instructions = params.get("instructions") or self.config.get("instructions") or ""
        response = _Response(
            id=new_id("resp"),
            trigger=trigger,
            modalities=list(params.get("output_modalities") or self.config["output_modalities"]),
            metadata=params.get("metadata"),
            input=self._input_tokens(instructions),
            created_at=asyncio.get_running_loop().time(),
        )
        self.response = response
        await self._send(
            "response.created", response=self._response_object(response, "in_progress")
        )
        response.task = asyncio.create_task(self._run_response(response))

    def _response_object(self, response: _Response, status: str, usage: Json | None = None) -> Json:
        cancelled = status == "cancelled"
        return {
            "object": "realtime.response",
            "id": response.id,
            "status": status,
            "status_details": {"type": "cancelled", "reason": response.cancel_reason}
            if cancelled
            else None,
            "output": [response.item.data] if response.item and status != "in_progress" else [],
            "conversation_id": self.conversation_id,
            "output_modalities": response.modalities,
            "max_output_tokens": self.config.get("max_output_tokens", "inf"),
            "audio": {
                "output": {"format": AUDIO_FORMAT, "voice": self.config["audio"]["output"]["voice"]}
            },
            "usage": usage,
            "metadata": response.metadata,
        }

    async def _run_response(self, response: _Response) -> None:
        # a client that hangs up mid-reply is not an error of the fake
        with contextlib.suppress(ConnectionResetError):
            reply = self.recorder.settings.reply_text
            last = self.items[-1].data if self.items else {}
            if last.get("type") == "function_call_output":
                reply = str(last.get("output") or "")  # relays the tool's result
            elif last.get("role") == "user" and (call := self.recorder.tool_call(self._tools())):
                await self._call_tool(response, call)
                await self._finish(response, audio=False)
                return
            audio = "audio" in response.modalities
            pcm = await asyncio.to_thread(speak, reply, SAMPLE_RATE) if audio else b""
            ttfb_s = self.recorder.settings.ttfb_ms / 1000
            if await self._wait_until(response, response.created_at + ttfb_s):
                await self._open_output(response, audio)
                if audio:
                    await self._stream_audio(response, pcm, words(reply))
                else:
                    await self._stream_text(response, words(reply))
            await self._finish(response, audio)

    def _tools(self) -> set[str]:
        return {str(t.get("name")) for t in self.config.get("tools") or []}

    async def _call_tool(self, response: _Response, call: ToolCall) -> None:
        """A function call as OpenAI sends one: the item, its arguments, the item done."""
        arguments = json.dumps(call.arguments)
        data: Json = {
            "id": new_id("item"),
            "object": "realtime.item",
            "type": "function_call",
            "status": "in_progress",
            "name": call.name,
            "call_id": new_id("call"),
            "arguments": "",
        }
        previous = self._last_item_id()
        response.item = _Item(data, text_tokens=text_tokens(arguments))
        self.items.append(response.item)
        await self._send(
            "response.output_item.added", response_id=response.id, output_index=0, item=data
        )
        await self._send("conversation.item.added", previous_item_id=previous, item=data)
        ids = {"response_id": response.id, "item_id": data["id"], "output_index": 0}
        ids["call_id"] = data["call_id"]
        await self._send("response.function_call_arguments.delta", delta=arguments, **ids)
        await self._send("response.function_call_arguments.done", arguments=arguments, **ids)
        data.update(status="completed", arguments=arguments)
        response.transcript = arguments
        await self._send(
            "response.output_item.done", response_id=response.id, output_index=0, item=data
        )
        await self._send("conversation.item.done", previous_item_id=previous, item=data)

    async def _wait_until(self, response: _Response, deadline: float) -> bool:
        """Sleeps until ``deadline`` (loop time); False when the response got cancelled."""
        delay = max(0.0, deadline - asyncio.get_running_loop().time())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(response.cancel.wait(), delay)
        return not response.cancel.is_set()

    async def _open_output(self, response: _Response, audio: bool) -> None:
        data: Json = {
            "id": new_id("item"),
            "object": "realtime.item",
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        previous = self._last_item_id()
        response.item = _Item(data)
        self.items.append(response.item)
        await self._send(
            "response.output_item.added", response_id=response.id, output_index=0, item=data
        )
        await self._send("conversation.item.added", previous_item_id=previous, item=data)
        part = {"type": "audio", "transcript": ""} if audio else {"type": "text", "text": ""}
        await self._send("response.content_part.added", part=part, **response.part_ids())

    async def _stream_audio(self, response: _Response, pcm: bytes, deltas: list[str]) -> None:
        assert response.item is not None
        chunk_bytes = CHUNK_MS * BYTES_PER_MS
        chunks = [pcm[i : i + chunk_bytes] for i in range(0, len(pcm), chunk_bytes)]
        start = asyncio.get_running_loop().time()
        sent = 0
        heard = False
        for k, chunk in enumerate(chunks):
            if not await self._wait_until(response, start + k * CHUNK_MS / 1000 / SPEEDUP):
                return
            # the transcript runs slightly ahead of the audio it belongs to, as OpenAI's does
            while sent < len(deltas) and sent * len(chunks) <= k * len(deltas):
                await self._send_transcript_delta(response, deltas[sent])
                sent += 1
            delta = base64.b64encode(chunk).decode()
            await self._send("response.output_audio.delta", delta=delta, **response.part_ids())
            response.item.audio_ms += len(chunk) // BYTES_PER_MS
            if not heard and rms_dbfs(np.frombuffer(chunk, np.int16)) > SILENT_DBFS:
                heard = True  # the reply's first sound left: a bench's hop trace
                self._record("realtime.audio_sent", response_id=response.id)
        for delta in deltas[sent:]:
            await self._send_transcript_delta(response, delta)

    async def _send_transcript_delta(self, response: _Response, delta: str) -> None:
        response.transcript += delta
        await self._send(
            "response.output_audio_transcript.delta", delta=delta, **response.part_ids()
        )

    async def _stream_text(self, response: _Response, deltas: list[str]) -> None:
        for delta in deltas:
            if not await self._wait_until(
                response, asyncio.get_running_loop().time() + WORD_INTERVAL_S
            ):
                return
            response.transcript += delta
            await self._send("response.output_text.delta", delta=delta, **response.part_ids())

    async def _finish(self, response: _Response, audio: bool) -> None:
        status = "cancelled" if response.cancel.is_set() else "completed"
        output = _Tokens()
        if response.item is not None:
            if response.item.data["type"] == "message":
                await self._close_output(response, audio, status)
            output = _Tokens(
                text=text_tokens(response.transcript), audio=response.item.audio_tokens
            )
        cached = _Tokens(
            text=min(self.last_input.text, response.input.text),
            audio=min(self.last_input.audio, response.input.audio),
        )
        self.last_input = response.input
        usage = _usage(response.input, cached, output)
        await self._send("response.done", response=self._response_object(response, status, usage))
        self._record(
            "realtime.turn",
            response_id=response.id,
            trigger=response.trigger,
            status=status,
            modalities=response.modalities,
            text=response.transcript,
            audio_ms=response.item.audio_ms if response.item else 0,
            usage=usage,
        )

    async def _close_output(self, response: _Response, audio: bool, status: str) -> None:
        item = response.item
        assert item is not None
        text = response.transcript
        item.text_tokens = text_tokens(text)
        item.data["status"] = "completed" if status == "completed" else "incomplete"
        ids = response.part_ids()
        if audio:
            item.data["content"] = [{"type": "output_audio", "transcript": text}]
            await self._send("response.output_audio.done", **ids)
            await self._send("response.output_audio_transcript.done", transcript=text, **ids)
            part = {"type": "audio", "transcript": text}
        else:
            item.data["content"] = [{"type": "output_text", "text": text}]
            await self._send("response.output_text.done", text=text, **ids)
            part = {"type": "text", "text": text}
        await self._send("response.content_part.done", part=part, **ids)
        await self._send(
            "response.output_item.done", response_id=response.id, output_index=0, item=item.data
        )
        index = self._find(item.id)
        previous = self.items[index - 1].id if index else None
        await self._send("conversation.item.done", previous_item_id=previous, item=item.data)
