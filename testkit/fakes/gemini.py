"""Fake Gemini Live API: the BidiGenerateContent WebSocket the google-genai client opens.

With ``generationConfig.translationConfig`` (``targetLanguageCode``) a session translates
instead, with no turns: what it hears goes to ``fakes.translation_engine``, whose audio comes
back as ``modelTurn`` audio parts, its words as ``outputTranscription``, the source's as
``inputTranscription``, and a ``turnComplete`` (with usage) ends each phrase; a target
espeak-ng has no voice for closes the socket (1007); ``audioStreamEnd`` flushes and closes.

One WebSocket is one Live session: ``setup`` → ``setupComplete``, then ``realtimeInput`` audio
(turns detected with an energy VAD, or ``activityStart``/``activityEnd`` when the client disables
automatic activity detection), ``clientContent`` and ``toolResponse``. Every turn is answered with
real speech of ``settings.reply_text``, streamed at about real time, then a ``usageMetadata``
billing 32 tokens per second of user audio streamed since the last one (silence included, as
the service bills what it receives) and 25 per second of agent audio actually sent.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import re
import time
import uuid
from typing import Any

import numpy as np
from aiohttp import WSMsgType, web

from .audio import EnergyVad, resample, speak
from .faults import LIVE, ON_CONNECT, Fault, http_answer
from .record import Recorder
from .translation_engine import Output, TranslationEngine, voice_exists

PROVIDER = "google"
# google-genai: f"{base_url}/ws/google.ai.generativelanguage.{api_version}.GenerativeService.
# BidiGenerateContent"; 3.x defaults to v1 (1.x to v1beta), GOOGLE_GENAI_API_VERSION=beta picks
# v1beta, and the plugin asks for v1alpha for affective dialog or proactivity.
WS_PATHS = tuple(
    f"/ws/google.ai.generativelanguage.{version}.GenerativeService.BidiGenerateContent"
    for version in ("v1", "v1beta", "v1alpha")
)
INPUT_RATE = 16000
OUTPUT_RATE = 24000
CHUNK_MS = 100
MANUAL_TURN_JOIN_S = 0.25
"""How long a reply to activityEnd waits for the clientContent that closes the same turn."""
INPUT_AUDIO_TOKENS_PER_S = 32
OUTPUT_AUDIO_TOKENS_PER_S = 25
CHARS_PER_TEXT_TOKEN = 4
# google-genai sends bytes as URL-safe base64; other clients use the standard alphabet.
_URLSAFE_TO_STANDARD = str.maketrans("-_", "+/")


def routes(recorder: Recorder) -> list[web.RouteDef]:
    session_ids = itertools.count(1)

    async def live(request: web.Request) -> web.StreamResponse:
        if (fault := recorder.fault("realtime", ON_CONNECT)) is not None:
            return await http_answer(request, fault)  # the session is refused
        ws = web.WebSocketResponse(max_msg_size=16 * 1024 * 1024)
        await ws.prepare(request)
        await _LiveSession(ws, recorder, f"live-{next(session_ids)}").run()
        return ws

    return [web.get(path, live) for path in WS_PATHS]


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def _camel_keys(value: Any) -> Any:
    """Protobuf JSON accepts snake_case and camelCase alike, and google-genai mixes them
    (``realtime_input`` wrapping ``mimeType``): normalise once so handlers read camelCase."""
    if isinstance(value, dict):
        return {_camel(k): _camel_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel_keys(v) for v in value]
    return value


def _dig(obj: dict[str, Any], *keys: str) -> Any:
    value: Any = obj
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _decode_pcm(blob: dict[str, Any]) -> np.ndarray:
    """A realtime audio blob as int16 PCM at the VAD's 16 kHz."""
    data: str = blob.get("data", "")
    raw = base64.b64decode(data.translate(_URLSAFE_TO_STANDARD) + "=" * (-len(data) % 4))
    rate = re.search(r"rate=(\d+)", blob.get("mimeType", ""))
    pcm = np.frombuffer(raw[: len(raw) // 2 * 2], dtype=np.int16)
    return resample(pcm, int(rate.group(1)) if rate else INPUT_RATE, INPUT_RATE)


def _contents_text(contents: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {
            "role": content.get("role", "user"),
            "text": " ".join(p["text"] for p in content.get("parts", []) if "text" in p),
        }
        for content in contents
    ]


def _transcript_pieces(text: str, n: int) -> list[str]:
    """Splits ``text`` at spaces into ``n`` pieces (some empty) that concatenate back to it,
    spread evenly so each audio chunk carries the words it roughly speaks."""
    if n == 0:
        return []
    words = text.split(" ")
    bounds = [round(len(words) * i / n) for i in range(n + 1)]
    return [
        (" " if bounds[i] > 0 and bounds[i + 1] > bounds[i] else "")
        + " ".join(words[bounds[i] : bounds[i + 1]])
        for i in range(n)
    ]


def _text_tokens(chars: int) -> int:
    return -(-chars // CHARS_PER_TEXT_TOKEN)


def _token_counts(modalities: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {"modality": modality, "tokenCount": count}
        for modality, count in modalities.items()
        if count
    ]


class _LiveSession:
    def __init__(self, ws: web.WebSocketResponse, recorder: Recorder, session_id: str) -> None:
        self._ws = ws
        self._recorder = recorder
        self._id = session_id
        self._vad = EnergyVad(INPUT_RATE)
        self._send_lock = asyncio.Lock()
        self._reply: asyncio.Task[None] | None = None
        self._automatic_activity = True
        self._audio_out = True
        self._transcribe_input = False
        self._transcribe_output = False
        self._audio_ms = 0.0
        self._speech_start_ms = 0.0
        # what the next usageMetadata bills: input not yet billed, and the reply so far
        self._billed_audio_ms = 0.0
        self._unbilled_text_tokens = 0
        self._reply_audio_ms = 0
        self._reply_text_chars = 0
        # a turn is open once the client may have started a generation for it (a transcript or
        # model content was sent): only an open turn needs turnComplete to close it
        self._turn_open = False
        self._streaming = False
        self._tools: set[str] = set()
        self._relay: str | None = None
        """A tool's result, said by the next reply instead of ``reply_text``."""
        self._fault: Fault | None = None
        """A live fault, due after its ``after_events`` messages."""
        self._sent = 0
        self._silent_until = 0.0
        """A ``silent`` fault: nothing is sent before this (monotonic) time."""
        self._translation: TranslationEngine | None = None
        """A translation session (``generationConfig.translationConfig``): no turns."""

    async def run(self) -> None:
        try:
            first = await self._receive()
            if first is None or "setup" not in first:
                await self._ws.close(code=1007, message=b"the first message must be setup")
                return
            self._on_setup(first["setup"])
            if self._translation and not voice_exists(self._translation.language):
                await self._ws.close(code=1007, message=b"unsupported target language")
                return
            self._record("live.session")
            await self._send({"setupComplete": {}})
            while (message := await self._receive()) is not None:
                await self._dispatch(message)
        finally:
            await self._cancel_reply()
            if self._audio_ms:
                self._record_audio()

    async def _receive(self) -> dict[str, Any] | None:
        while True:
            msg = await self._ws.receive()
            if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                parsed: dict[str, Any] = _camel_keys(json.loads(msg.data))
                return parsed
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                return None

    async def _send(self, message: dict[str, Any]) -> None:
        # the real service sends its JSON in binary frames; the lock keeps the reply task and
        # the reader from interleaving frames; the client may hang up in the middle of a reply
        async with self._send_lock:
            if self._ws.closed or time.monotonic() < self._silent_until:
                return
            with contextlib.suppress(ConnectionResetError):
                await self._ws.send_bytes(json.dumps(message).encode())
            await self._strike()

    async def _strike(self) -> None:
        """A live fault the switchboard queued, once its ``after_events`` messages are sent."""
        if self._fault is None:
            self._fault, self._sent = self._recorder.fault("realtime", LIVE), 0
        self._sent += 1
        fault = self._fault
        if fault is None or self._sent < fault.after_events:
            return
        self._fault = None
        self._recorder.add("fakes", "fault.struck", stage="realtime", fault=fault.kind)
        if fault.kind == "close":
            await self._ws.close(code=1011, message=b"fake fault")
        elif fault.kind == "silent":
            self._silent_until = time.monotonic() + fault.stall_s
        else:
            await self._ws.send_bytes(b'{"serverContent": ')

    def _record(self, kind: str, **data: Any) -> None:
        self._recorder.add(PROVIDER, kind, session=self._id, **data)

    def _record_audio(self) -> None:
        self._record("live.audio", ms=round(self._audio_ms))

    def _on_setup(self, setup: dict[str, Any]) -> None:
        generation = setup.get("generationConfig", {})
        self._automatic_activity = not _dig(
            setup, "realtimeInputConfig", "automaticActivityDetection", "disabled"
        )
        modalities = generation.get("responseModalities") or ["AUDIO"]
        self._audio_out = "AUDIO" in modalities
        self._transcribe_input = "inputAudioTranscription" in setup
        self._transcribe_output = "outputAudioTranscription" in setup
        if target := _dig(generation, "translationConfig", "targetLanguageCode"):
            self._translation = TranslationEngine(
                self._recorder, str(target), INPUT_RATE, transcribe=self._transcribe_input
            )
        self._tools = {
            str(f.get("name"))
            for tool in setup.get("tools") or []
            for f in tool.get("functionDeclarations") or []
        }
        self._record(
            "live.setup",
            model=setup.get("model"),
            response_modalities=modalities,
            input_transcription=self._transcribe_input,
            output_transcription=self._transcribe_output,
            automatic_activity_detection=self._automatic_activity,
            translation=_dig(generation, "translationConfig"),
            voice=_dig(
                generation, "speechConfig", "voiceConfig", "prebuiltVoiceConfig", "voiceName"
            ),
            instructions=" ".join(
                part["text"]
                for part in _dig(setup, "systemInstruction", "parts") or []
                if "text" in part
            ),
        )

    async def _dispatch(self, message: dict[str, Any]) -> None:
        if "realtimeInput" in message:
            await self._on_realtime_input(message["realtimeInput"])
        elif "clientContent" in message:
            await self._on_client_content(message["clientContent"])
        elif "toolResponse" in message:
            await self._on_tool_response(message["toolResponse"])

    async def _on_realtime_input(self, realtime: dict[str, Any]) -> None:
        for blob in [realtime.get("audio"), *realtime.get("mediaChunks", [])]:
            if blob and blob.get("mimeType", "").startswith("audio/pcm"):
                await self._on_audio(_decode_pcm(blob))
        # the VAD's clock times every turn, also those the client delimits itself
        if "activityStart" in realtime:
            await self._on_user_started(self._vad.audio_ms)
        if "activityEnd" in realtime:
            await self._on_user_stopped(self._vad.audio_ms, "activity")
        if realtime.get("audioStreamEnd") and self._translation:
            await self._translated(self._translation.flush())  # said to its end, then closed
            await self._ws.close()
        elif realtime.get("audioStreamEnd") and self._automatic_activity:
            # the microphone closed: flushing the VAD with silence ends a turn in progress
            silence = np.zeros(INPUT_RATE * self._vad.silence_ms // 1000, dtype=np.int16)
            await self._on_vad_events(self._vad.feed(silence))

    async def _on_audio(self, pcm: np.ndarray) -> None:
        self._audio_ms += pcm.size * 1000 / INPUT_RATE
        if self._translation is not None:
            await self._translated(self._translation.feed(pcm.tobytes()))
            return
        events = self._vad.feed(pcm)
        if self._automatic_activity:
            await self._on_vad_events(events)

    async def _on_vad_events(self, events: list[tuple[str, int]]) -> None:
        for event, at_ms in events:
            if event == "speech_started":
                await self._on_user_started(at_ms)
            else:
                await self._on_user_stopped(at_ms, "vad")

    async def _on_user_started(self, at_ms: float) -> None:
        self._speech_start_ms = at_ms
        self._record_audio()
        await self._interrupt()

    async def _on_user_stopped(self, at_ms: float, source: str) -> None:
        speech_ms = round(at_ms - self._speech_start_ms)
        self._record("live.turn", source=source, speech_ms=speech_ms)
        self._record_audio()
        if self._transcribe_input:
            self._turn_open = True
            heard = f"I said something for {speech_ms / 1000:.1f} seconds"
            text = self._recorder.transcript(heard)
            await self._send({"serverContent": {"inputTranscription": {"text": text}}})
        if (call := self._recorder.tool_call(self._tools)) is not None:
            # the model calls a tool instead of answering; its result resumes the turn
            self._record("live.tool_call", name=call.name)
            await self._interrupt()
            function_call = {"id": f"call-{uuid.uuid4().hex[:12]}", "name": call.name}
            await self._send(
                {"toolCall": {"functionCalls": [{**function_call, "args": call.arguments}]}}
            )
            self._turn_open = False
            return
        # With manual activity the client closes the turn with a clientContent right after
        # activityEnd; wait for it so the two join one reply even when speech is cached.
        await self._start_reply(0.0 if self._automatic_activity else MANUAL_TURN_JOIN_S)

    async def _on_client_content(self, content: dict[str, Any]) -> None:
        turns = _contents_text(content.get("turns", []))
        turn_complete = bool(content.get("turnComplete"))
        self._record("live.client_content", turns=turns, turn_complete=turn_complete)
        self._unbilled_text_tokens += _text_tokens(sum(len(turn["text"]) for turn in turns))
        if turn_complete:
            await self._start_reply()

    async def _on_tool_response(self, response: dict[str, Any]) -> None:
        calls = response.get("functionResponses", [])
        self._record(
            "live.tool_response", calls=[{"id": c.get("id"), "name": c.get("name")} for c in calls]
        )
        # a blocking tool's result resumes the model's turn, which relays it
        outputs = [c.get("response", {}) for c in calls]
        self._relay = " ".join(str(o.get("output", o.get("error", ""))) for o in outputs) or None
        await self._start_reply()

    async def _start_reply(self, min_delay_s: float = 0.0) -> None:
        if self._reply is not None and not self._reply.done() and not self._streaming:
            # nothing said yet: this input joins the turn about to be answered. The plugin in
            # manual activity mode sends activityEnd then a turnComplete clientContent for one turn.
            return
        await self._interrupt()
        self._reply = asyncio.create_task(
            self._speak(asyncio.get_running_loop().time(), min_delay_s)
        )

    async def _cancel_reply(self) -> bool:
        """Stops the reply in flight; True if there was one."""
        if self._reply is None or self._reply.done():
            return False
        self._reply.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reply
        return True

    async def _interrupt(self) -> None:
        if not await self._cancel_reply() or not self._turn_open:
            return
        self._record("live.interrupted", reply_audio_ms=self._reply_audio_ms)
        await self._send({"serverContent": {"interrupted": True}})
        await self._finish_turn()

    async def _speak(self, committed_at: float, min_delay_s: float) -> None:
        loop = asyncio.get_running_loop()
        text, self._relay = self._relay or self._recorder.settings.reply_text, None
        pcm = await asyncio.to_thread(speak, text, OUTPUT_RATE)
        chunk_bytes = OUTPUT_RATE * CHUNK_MS // 1000 * 2
        chunks = [pcm[i : i + chunk_bytes] for i in range(0, len(pcm), chunk_bytes)]
        pieces = _transcript_pieces(text, len(chunks))
        await asyncio.sleep(
            max(
                0.0,
                committed_at
                + max(self._recorder.settings.ttfb_ms / 1000, min_delay_s)
                - loop.time(),
            )
        )
        self._turn_open = self._streaming = True
        started = loop.time()
        for i, (chunk, piece) in enumerate(zip(chunks, pieces, strict=True)):
            await asyncio.sleep(max(0.0, started + i * CHUNK_MS / 1000 - loop.time()))
            await self._send_chunk(chunk, piece)
        await self._send({"serverContent": {"generationComplete": True}})
        # the service holds turnComplete until the client should have played the audio out
        await asyncio.sleep(max(0.0, started + self._reply_audio_ms / 1000 - loop.time()))
        await self._finish_turn()

    async def _send_chunk(self, chunk: bytes, piece: str) -> None:
        if not self._audio_out:
            self._reply_text_chars += len(piece)
            if piece:
                await self._send({"serverContent": {"modelTurn": {"parts": [{"text": piece}]}}})
            return
        data = base64.b64encode(chunk).decode()
        inline = {"mimeType": f"audio/pcm;rate={OUTPUT_RATE}", "data": data}
        await self._send({"serverContent": {"modelTurn": {"parts": [{"inlineData": inline}]}}})
        self._reply_audio_ms += len(chunk) * 1000 // (2 * OUTPUT_RATE)
        if piece and self._transcribe_output:
            await self._send({"serverContent": {"outputTranscription": {"text": piece}}})

    async def _translated(self, outputs: list[Output]) -> None:
        """A translation session's output: each phrase is one model turn."""
        for out in outputs:
            if out.kind == "audio":
                assert isinstance(out.data, bytes)
                self._turn_open = True
                await self._send_chunk(out.data, "")
            elif out.kind == "translation" and self._transcribe_output:
                await self._send({"serverContent": {"outputTranscription": {"text": out.data}}})
            elif out.kind == "source":
                await self._send({"serverContent": {"inputTranscription": {"text": out.data}}})
            elif out.kind == "spoken":
                await self._finish_turn()

    async def _finish_turn(self) -> None:
        """Closes the open turn with turnComplete and the usage of the audio since the last."""
        if not self._turn_open:
            return
        usage = self._usage()
        self._record("live.reply", audio_ms=self._reply_audio_ms, usage=usage)
        self._turn_open = self._streaming = False
        self._reply_audio_ms = 0
        self._reply_text_chars = 0
        await self._send({"serverContent": {"turnComplete": True}, "usageMetadata": usage})

    def _usage(self) -> dict[str, Any]:
        audio_in = round((self._audio_ms - self._billed_audio_ms) / 1000 * INPUT_AUDIO_TOKENS_PER_S)
        prompt = {"AUDIO": audio_in, "TEXT": self._unbilled_text_tokens}
        response = {
            "AUDIO": round(self._reply_audio_ms / 1000 * OUTPUT_AUDIO_TOKENS_PER_S),
            "TEXT": _text_tokens(self._reply_text_chars),
        }
        self._billed_audio_ms = self._audio_ms
        self._unbilled_text_tokens = 0
        return {
            "promptTokenCount": sum(prompt.values()),
            "responseTokenCount": sum(response.values()),
            "totalTokenCount": sum(prompt.values()) + sum(response.values()),
            "promptTokensDetails": _token_counts(prompt),
            "responseTokensDetails": _token_counts(response),
        }
