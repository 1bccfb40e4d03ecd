"""An early realtime answer (agent/pipeline/early.py) against a scripted socket: taken over at
the end of turn, the plugin reads it as the answer to its own request (the request is never
sent); when the user goes on, it is cancelled, its item deleted, its usage reported, and none
of it reaches the plugin."""

from __future__ import annotations

import asyncio
import json
from typing import Any, cast

import aiohttp
from livekit.agents.metrics import RealtimeModelMetrics
from livekit.plugins import openai

from agent.pipeline.early import EarlyReplies, HeldSocket

Json = dict[str, Any]


class _Socket:
    def __init__(self) -> None:
        self.incoming: asyncio.Queue[aiohttp.WSMessage] = asyncio.Queue()
        self.closed = False

    async def receive(self) -> aiohttp.WSMessage:
        return await self.incoming.get()

    def server(self, kind: str, **fields: Any) -> None:
        data = json.dumps({"type": kind, **fields})
        self.incoming.put_nowait(aiohttp.WSMessage(aiohttp.WSMsgType.TEXT, data, None))

    async def close(self) -> bool:
        self.closed = True
        self.incoming.put_nowait(aiohttp.WSMessage(aiohttp.WSMsgType.CLOSED, None, None))
        return True


class _Model:
    label, model, provider = "openai.realtime.RealtimeModel", "gpt-realtime", "api.openai.com"


class _Session:
    """What EarlyReplies uses of livekit-plugins-openai's session; ``sent`` is the wire."""

    def __init__(self) -> None:
        self.sent: list[Json] = []
        self.has_active_generation = False
        self._pushed_duration_s = 0.0
        self._realtime_model = _Model()
        self.discarded: list[RealtimeModelMetrics] = []
        plugin = cast(openai.realtime.RealtimeSession, self)
        self.early = EarlyReplies(plugin, self.sent.append, self.discarded.append)

    class _bstream:
        @staticmethod
        def flush() -> list[Any]:
            return []

    def _append_audio(self, frames: list[Any]) -> None:
        pass

    def commit_audio(self) -> None:
        if not self.early.commit():
            self.sent.append({"type": "input_audio_buffer.commit"})

    def clear_audio(self) -> None:
        self.sent.append({"type": "input_audio_buffer.clear"})

    def send_event(self, event: Json) -> None:
        if self.early.sends(event):
            self.sent.append(event)

    def kinds(self) -> list[str]:
        return [e["type"] for e in self.sent]


def _started() -> tuple[_Session, _Socket, HeldSocket, str]:
    """A session whose user just paused after 1.2 s of audio: the early request is out."""
    s, socket = _Session(), _Socket()
    held = s.early.socket(cast(aiohttp.ClientWebSocketResponse, socket))
    s._pushed_duration_s = 1.2
    s.early.speech(started=False)
    return s, socket, held, s.sent[1]["response"]["metadata"]["client_event_id"]


async def _read(held: Any, n: int) -> list[Json]:
    return [json.loads((await asyncio.wait_for(held.receive(), 1.0)).data) for _ in range(n)]


def _response(socket: _Socket, response_id: str, client_id: str, *, status: str = "completed") -> None:  # noqa: E501  # fmt: skip
    socket.server("response.created", response={"id": response_id, "metadata": {"client_event_id": client_id}})  # noqa: E501  # fmt: skip
    item = {"id": f"item_{response_id}", "type": "message", "role": "assistant"}
    socket.server("response.output_item.added", response_id=response_id, item=item)
    socket.server("conversation.item.added", item=item)
    socket.server("response.output_audio.delta", response_id=response_id, delta="AAAA")
    usage = {"input_tokens": 120, "output_tokens": 30, "total_tokens": 150,
             "input_token_details": {"audio_tokens": 100, "text_tokens": 20},
             "output_token_details": {"audio_tokens": 30}}  # fmt: skip
    socket.server("response.done", response={"id": response_id, "status": status, "usage": usage})


async def test_an_early_answer_becomes_the_reply() -> None:
    s, socket, held, early_id = _started()
    assert s.kinds() == ["input_audio_buffer.commit", "response.create"]
    _response(socket, "resp_1", early_id)
    socket.server("rate_limits.updated")
    # the answer waits; what is not its own goes on
    assert [e["type"] for e in await _read(held, 1)] == ["rate_limits.updated"]

    s.commit_audio()  # the worker ends the turn, then asks for the reply
    s.send_event({"type": "response.create", "event_id": "response_create_1", "response": {}})
    assert s.kinds()[2:] == ["input_audio_buffer.clear"], "the silence since is dropped"
    read = await _read(held, 5)
    assert [e["type"] for e in read] == [
        "response.created", "response.output_item.added", "conversation.item.added",
        "response.output_audio.delta", "response.done",
    ]  # fmt: skip
    assert read[0]["response"]["metadata"]["client_event_id"] == "response_create_1"
    assert s.discarded == []
    await held.close()


async def test_an_answer_taken_over_before_the_provider_created_it() -> None:
    s, socket, held, early_id = _started()
    s.commit_audio()
    s.send_event({"type": "response.create", "event_id": "response_create_2", "response": {}})
    _response(socket, "resp_2", early_id)
    read = await _read(held, 5)
    assert read[0]["response"]["metadata"]["client_event_id"] == "response_create_2"
    assert read[-1]["type"] == "response.done"
    await held.close()


async def test_the_user_goes_on_and_the_early_answer_is_thrown_away() -> None:
    s, socket, held, early_id = _started()
    socket.server("response.created", response={"id": "resp_3", "metadata": {"client_event_id": early_id}})  # noqa: E501  # fmt: skip
    await asyncio.sleep(0.01)
    s.early.speech(started=True)  # before the worker's end of turn
    assert s.sent[-1]["type"] == "response.cancel" and s.sent[-1]["response_id"] == "resp_3"

    s.commit_audio()  # the continuation is committed as it is
    assert s.sent[-1]["type"] == "input_audio_buffer.commit"
    # the worker's request waits for the cancelled one to end (one response at a time)
    s.send_event({"type": "response.create", "event_id": "response_create_3", "response": {}})
    assert s.kinds().count("response.create") == 1

    _response(socket, "resp_3", early_id, status="cancelled")
    socket.server("conversation.item.deleted", item_id="item_resp_3")
    socket.server("error", error={"code": "response_cancel_not_active", "event_id": s.sent[-2]["event_id"]})  # noqa: E501  # fmt: skip
    socket.server("rate_limits.updated")
    assert [e["type"] for e in await _read(held, 1)] == ["rate_limits.updated"], "none reached the plugin"  # noqa: E501  # fmt: skip
    deletes = [e for e in s.sent if e["type"] == "conversation.item.delete"]
    assert [d["item_id"] for d in deletes] == ["item_resp_3"]
    assert s.sent[-1] == {"type": "response.create", "event_id": "response_create_3", "response": {}}  # noqa: E501  # fmt: skip
    [usage] = s.discarded
    assert usage.cancelled and usage.input_tokens == 120 and usage.output_tokens == 30
    assert usage.input_token_details.audio_tokens == 100
    assert usage.output_token_details.audio_tokens == 30
    await held.close()


async def test_a_reply_with_its_own_instructions_is_asked_for_anew() -> None:
    s, socket, held, early_id = _started()
    _response(socket, "resp_4", early_id)
    await asyncio.sleep(0.01)
    s.commit_audio()
    s.send_event({"type": "response.create", "response": {"instructions": "Greet them."}})
    assert s.sent[-1]["response"] == {"instructions": "Greet them."}, "sent: the early one is done"
    assert s.sent[-2]["type"] == "conversation.item.delete"
    assert len(s.discarded) == 1
    await held.close()


async def test_nothing_starts_early_while_the_agent_answers_or_on_too_little_audio() -> None:
    s, socket = _Session(), _Socket()
    held = s.early.socket(cast(aiohttp.ClientWebSocketResponse, socket))
    s._pushed_duration_s = 0.05
    s.early.speech(started=False)
    s._pushed_duration_s, s.has_active_generation = 1.2, True
    s.early.speech(started=False)
    assert s.sent == []
    await held.close()


async def test_a_refused_early_request_leaves_the_reply_to_the_worker() -> None:
    s, socket, held, early_id = _started()
    assert s.sent[1]["event_id"] == early_id
    s.commit_audio()
    request = {"type": "response.create", "event_id": "response_create_5", "response": {}}
    s.send_event(request)
    assert s.sent[-1]["type"] == "input_audio_buffer.clear"
    refusal = {"code": "conversation_already_has_active_response", "event_id": early_id}
    socket.server("error", error=refusal)
    socket.server("rate_limits.updated")
    assert [e["type"] for e in await _read(held, 1)] == ["rate_limits.updated"]
    assert s.sent[-1] == request, "asked for as the worker asked"
    await held.close()
