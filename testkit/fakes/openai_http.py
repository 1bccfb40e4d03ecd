"""Fake OpenAI HTTP APIs that the cascade plugins call: models, chat completions, audio.

``openai.LLM`` streams ``POST /v1/chat/completions`` (SSE, final usage chunk, ``[DONE]``);
``openai.STT`` posts a WAV to ``/v1/audio/transcriptions`` (``json``, or ``verbose_json`` for
whisper-1); ``openai.TTS`` asks ``/v1/audio/speech`` for ``stream_format=sse`` events carrying
base64 mp3 by default, or for the raw bytes of ``response_format`` with tts-1/tts-1-hd.

Also holds the helpers the Realtime fake shares: ids, token estimates and the deterministic
transcript ("I said something for 2.3 seconds").
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import math
import re
import secrets
import time
import wave
from collections.abc import Iterator
from typing import Any

import av
import numpy as np
from aiohttp import web
from aiohttp.web_request import FileField
from av.audio.stream import AudioStream

from .audio import EnergyVad, read_wav, speak, write_wav
from .record import Recorder, ToolCall

PROVIDER = "openai"
SAMPLE_RATE = 24000
USER_AUDIO_MS_PER_TOKEN = 100
AGENT_AUDIO_MS_PER_TOKEN = 50
WORD_INTERVAL_S = 0.02
"""Pause between streamed words: about 50 tokens per second, like a small chat model."""

MODELS = (
    "gpt-realtime",
    "gpt-4.1",
    "gpt-4o-mini",
    "gpt-4o-mini-transcribe",
    "gpt-4o-transcribe",
    "whisper-1",
    "gpt-4o-mini-tts",
    "tts-1",
)
# response_format -> (container, encoder, Content-Type) for the formats PyAV must encode
_ENCODED_FORMATS = {
    "mp3": ("mp3", "libmp3lame", "audio/mpeg"),
    "opus": ("ogg", "libopus", "audio/ogg"),
    "aac": ("adts", "aac", "audio/aac"),
    "flac": ("flac", "flac", "audio/flac"),
}
_RAW_STREAM_MODELS = ("tts-1", "tts-1-hd")
_AUDIO_PIECE_BYTES = 4096

Json = dict[str, Any]


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(10)}"


def text_tokens(text: str) -> int:
    """About four characters per token, as OpenAI's tokenizers average on English."""
    return math.ceil(len(text) / 4)


def audio_tokens(ms: int, ms_per_token: int) -> int:
    return math.ceil(ms / ms_per_token)


def words(text: str) -> list[str]:
    """Word-sized deltas that join back into ``text`` (leading spaces kept, like tokens)."""
    return re.findall(r"\s*\S+", text)


def speech_ms(pcm: bytes, rate: int) -> int:
    """How long the loud parts of ``pcm`` last, by the same energy VAD as the server VAD."""
    vad = EnergyVad(rate)
    total, started = 0, 0
    for kind, at_ms in vad.feed(pcm):
        if kind == "speech_started":
            started = at_ms
        else:
            total += at_ms - started
    return total + (vad.audio_ms - started if vad.speaking else 0)


def fake_transcript(ms: int) -> str:
    """The fake does no speech recognition: it reports how long the user spoke."""
    return f"I said something for {ms / 1000:.1f} seconds" if ms > 0 else ""


def error_response(status: int, message: str, param: str | None = None) -> web.Response:
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": None}
    return web.json_response({"error": error}, status=status)


def auth_error(request: web.Request) -> web.Response | None:
    """OpenAI answers 401 without a bearer key; the fake accepts any key."""
    if request.headers.get("Authorization", "").startswith("Bearer "):
        return None
    return error_response(401, "You didn't provide an API key.")


def routes(recorder: Recorder) -> list[web.RouteDef]:
    api = _HttpApi(recorder)
    return [
        web.get("/v1/models", api.models),
        web.get("/v1/models/{model}", api.model),
        web.post("/v1/chat/completions", recorder.faulty("llm", api.chat_completions)),
        web.post("/v1/audio/transcriptions", recorder.faulty("stt", api.transcriptions)),
        web.post("/v1/audio/speech", recorder.faulty("tts", api.speech)),
    ]


def _model_object(model: str) -> Json:
    return {"id": model, "object": "model", "created": 1_700_000_000, "owned_by": "openai"}


def _message_text(message: Json) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content if isinstance(content, str) else ""


def _chat_usage(messages: list[Json], tools: list[Json], reply: str) -> Json:
    # every message costs a few tokens of framing on top of its text
    prompt = sum(4 + text_tokens(_message_text(m)) for m in messages)
    prompt += text_tokens(json.dumps(tools)) if tools else 0
    completion = text_tokens(reply)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _tool_names(tools: list[Json]) -> set[str]:
    return {str(t.get("function", {}).get("name")) for t in tools if t.get("type") == "function"}


def _tool_call(call: ToolCall) -> Json:
    arguments = json.dumps(call.arguments)
    return {
        "id": new_id("call"),
        "type": "function",
        "function": {"name": call.name, "arguments": arguments},
    }


def _chat_chunk(base: Json, delta: Json, finish_reason: str | None = None) -> Json:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
    return {**base, "object": "chat.completion.chunk", "choices": [choice]}


def _encode(pcm: bytes, response_format: str) -> tuple[bytes, str]:
    """``pcm`` (24 kHz mono int16) in ``response_format``, with its Content-Type."""
    if response_format == "pcm":
        return pcm, "audio/pcm"
    if response_format == "wav":
        return write_wav(np.frombuffer(pcm, dtype=np.int16), SAMPLE_RATE), "audio/wav"
    container, codec, content_type = _ENCODED_FORMATS[response_format]
    buf = io.BytesIO()
    with av.open(buf, "w", format=container) as out:
        stream = out.add_stream(codec, rate=SAMPLE_RATE, layout="mono")
        assert isinstance(stream, AudioStream)
        samples = np.frombuffer(pcm, dtype=np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    return buf.getvalue(), content_type


def _pieces(data: bytes, size: int) -> Iterator[bytes]:
    return (data[i : i + size] for i in range(0, len(data), size))


async def _sse(resp: web.StreamResponse, data: Json | str) -> None:
    payload = data if isinstance(data, str) else json.dumps(data)
    await resp.write(f"data: {payload}\n\n".encode())


def _request_id() -> dict[str, str]:
    """OpenAI names every answer; the SDK hands it to the plugins as ``request_id``."""
    return {"x-request-id": new_id("req")}


def _json(data: Json) -> web.Response:
    return web.json_response(data, headers=_request_id())


async def _start_stream(request: web.Request, content_type: str) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": content_type, **_request_id()})
    await resp.prepare(request)
    return resp


class _HttpApi:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    async def models(self, request: web.Request) -> web.Response:
        if denied := auth_error(request):
            return denied
        return _json({"object": "list", "data": [_model_object(m) for m in MODELS]})

    async def model(self, request: web.Request) -> web.Response:
        if denied := auth_error(request):
            return denied
        return _json(_model_object(request.match_info["model"]))

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        if denied := auth_error(request):
            return denied
        body: Json = await request.json()
        messages: list[Json] = body.get("messages", [])
        tools: list[Json] = body.get("tools") or []
        reply = self.recorder.settings.reply_text
        call = None
        if messages and messages[-1].get("role") == "tool":
            reply = _message_text(messages[-1])  # relays the tool's result
        elif messages and messages[-1].get("role") == "user":
            call = self.recorder.tool_call(_tool_names(tools))
        usage = _chat_usage(messages, tools, json.dumps(call.arguments) if call else reply)
        last_user = next((m for m in reversed(messages) if m.get("role") == "user"), {})
        self.recorder.add(
            PROVIDER,
            "chat.completions",
            model=body.get("model"),
            stream=bool(body.get("stream")),
            roles=[m.get("role") for m in messages],
            last_user=_message_text(last_user)[:120],
            tools=len(tools),
            tool_call=call.name if call else None,
            usage=usage,
        )
        base = {
            "id": new_id("chatcmpl"),
            "created": int(time.time()),
            "model": body.get("model", ""),
            "system_fingerprint": "fp_fake",
            "service_tier": "default",
        }
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return await self._stream_chat(
                request, base, reply, usage if include_usage else None, call
            )
        await asyncio.sleep(self.recorder.settings.ttfb_ms / 1000)
        message: Json = {"role": "assistant", "content": reply, "refusal": None, "annotations": []}
        if call:
            message = {**message, "content": None, "tool_calls": [_tool_call(call)]}
        finish = "tool_calls" if call else "stop"
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
        return _json({**base, "object": "chat.completion", "choices": [choice], "usage": usage})

    async def _stream_chat(
        self,
        request: web.Request,
        base: Json,
        reply: str,
        usage: Json | None,
        call: ToolCall | None,
    ) -> web.StreamResponse:
        resp = await _start_stream(request, "text/event-stream")
        # with include_usage every chunk carries "usage": null until the final one
        base = {**base, "usage": None} if usage else base
        await asyncio.sleep(self.recorder.settings.ttfb_ms / 1000)
        if call:
            await self._stream_tool_call(resp, base, call)
        else:
            first = {"role": "assistant", "content": "", "refusal": None}
            await _sse(resp, _chat_chunk(base, first))
            for word in words(reply):
                await _sse(resp, _chat_chunk(base, {"content": word}))
                await asyncio.sleep(WORD_INTERVAL_S)
            await _sse(resp, _chat_chunk(base, {}, finish_reason="stop"))
        if usage:
            await _sse(
                resp, {**base, "object": "chat.completion.chunk", "choices": [], "usage": usage}
            )
        await _sse(resp, "[DONE]")
        await resp.write_eof()
        return resp

    @staticmethod
    async def _stream_tool_call(resp: web.StreamResponse, base: Json, call: ToolCall) -> None:
        """As OpenAI streams a call: the name first, the JSON arguments in pieces."""
        whole = _tool_call(call)
        opening = {**whole, "function": {"name": call.name, "arguments": ""}}
        delta: Json = {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"index": 0, **opening}],
        }
        await _sse(resp, _chat_chunk(base, delta))
        arguments = whole["function"]["arguments"]
        for piece in (arguments[i : i + 16] for i in range(0, len(arguments), 16)):
            part = {"index": 0, "function": {"arguments": piece}}
            await _sse(resp, _chat_chunk(base, {"tool_calls": [part]}))
            await asyncio.sleep(WORD_INTERVAL_S)
        await _sse(resp, _chat_chunk(base, {}, finish_reason="tool_calls"))

    async def transcriptions(self, request: web.Request) -> web.Response:
        if denied := auth_error(request):
            return denied
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, FileField):
            return error_response(400, "Missing required parameter: 'file'.", "file")
        try:
            samples, rate = read_wav(upload.file.read())
        except (wave.Error, EOFError):
            return error_response(400, "Audio file might be corrupted or unsupported", "file")
        model = str(form.get("model", ""))
        response_format = str(form.get("response_format", "json"))
        audio_ms = samples.size * 1000 // rate
        spoken_ms = speech_ms(samples.tobytes(), rate)
        text = self.recorder.transcript(fake_transcript(spoken_ms))
        self.recorder.add(
            PROVIDER,
            "audio.transcriptions",
            model=model,
            response_format=response_format,
            language=form.get("language"),
            audio_ms=audio_ms,
            speech_ms=spoken_ms,
            text=text,
        )
        if response_format == "text":
            return web.Response(text=text, headers=_request_id())
        if response_format == "verbose_json":
            return _json(_verbose_transcription(text, audio_ms, form.get("language")))
        if response_format == "json":
            return _json({"text": text, "usage": _transcription_usage(audio_ms, text)})
        return error_response(
            400, f"Unsupported response_format: {response_format}", "response_format"
        )

    async def speech(self, request: web.Request) -> web.StreamResponse:
        if denied := auth_error(request):
            return denied
        body: Json = await request.json()
        text: str = body.get("input", "")
        model: str = body.get("model", "")
        response_format: str = body.get("response_format", "mp3")
        stream_format: str = body.get("stream_format", "audio")
        if response_format not in (*_ENCODED_FORMATS, "wav", "pcm"):
            return error_response(
                400, f"Invalid response_format: {response_format}", "response_format"
            )
        if stream_format == "sse" and model.startswith(_RAW_STREAM_MODELS):
            return error_response(
                400, f"stream_format 'sse' is not supported for {model}.", "stream_format"
            )
        pcm = await asyncio.to_thread(speak, text, SAMPLE_RATE)
        audio, content_type = await asyncio.to_thread(_encode, pcm, response_format)
        audio_ms = len(pcm) * 1000 // (SAMPLE_RATE * 2)
        self.recorder.add(
            PROVIDER,
            "audio.speech",
            model=model,
            voice=body.get("voice"),
            response_format=response_format,
            stream_format=stream_format,
            text=text,
            audio_ms=audio_ms,
        )
        if stream_format == "sse":
            usage = _speech_usage(text, body.get("instructions") or "", audio_ms)
            return await _stream_speech_events(request, audio, usage)
        resp = await _start_stream(request, content_type)
        for piece in _pieces(audio, _AUDIO_PIECE_BYTES):
            await resp.write(piece)
        await resp.write_eof()
        return resp


async def _stream_speech_events(
    request: web.Request, audio: bytes, usage: Json
) -> web.StreamResponse:
    resp = await _start_stream(request, "text/event-stream")
    for piece in _pieces(audio, _AUDIO_PIECE_BYTES):
        delta = {"type": "speech.audio.delta", "audio": base64.b64encode(piece).decode()}
        await _sse(resp, delta)
    await _sse(resp, {"type": "speech.audio.done", "usage": usage})
    await resp.write_eof()
    return resp


def _transcription_usage(audio_ms: int, text: str) -> Json:
    audio = audio_tokens(audio_ms, USER_AUDIO_MS_PER_TOKEN)
    output = text_tokens(text)
    return {
        "type": "tokens",
        "input_tokens": audio,
        "input_token_details": {"text_tokens": 0, "audio_tokens": audio},
        "output_tokens": output,
        "total_tokens": audio + output,
    }


def _verbose_transcription(text: str, audio_ms: int, language: object) -> Json:
    seconds = audio_ms / 1000
    segment = {
        "id": 0,
        "seek": 0,
        "start": 0.0,
        "end": seconds,
        "text": text,
        "tokens": [],
        "temperature": 0.0,
        "avg_logprob": -0.2,
        "compression_ratio": 1.0,
        "no_speech_prob": 0.01,
    }
    return {
        "task": "transcribe",
        "language": language if isinstance(language, str) and language else "english",
        "duration": seconds,
        "text": text,
        "segments": [segment] if text else [],
        "usage": {"type": "duration", "seconds": math.ceil(seconds)},
    }


def _speech_usage(text: str, instructions: str, audio_ms: int) -> Json:
    input_tokens = text_tokens(text) + text_tokens(instructions)
    output_tokens = audio_tokens(audio_ms, AGENT_AUDIO_MS_PER_TOKEN)
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }
