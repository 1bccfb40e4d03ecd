"""An OpenAI Realtime answer started before the worker's end of turn: what preemptive
generation is to a cascade, for a realtime room whose turns the worker ends
(``turn_taking.detection: local``).

There the provider starts only once the end of turn is decided, so its time to first audio
came on top of the decision. Instead, when the VAD first hears a short silence
(``SILENCE_S``, well before the end-of-turn decision), the audio so far is committed and a
response requested; livekit-plugins-openai does not see that response's events yet. When the
worker ends the turn, the response becomes the reply: its events reach the plugin as the answer
to the worker's own request, and the silence since is cleared, not committed. When the user
speaks again first, it is cancelled and its items deleted (the continuation is committed as the
next part of the user's turn), and what it cost is reported: its usage goes to the session's
metrics as any response's does, and the report's ``preemptive`` counts it.

Only a plain reply is taken over: one with its own instructions or tools is asked for anew.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from livekit.agents import utils
from livekit.agents.metrics import RealtimeModelMetrics
from livekit.agents.metrics.base import Metadata
from livekit.plugins import openai

logger = logging.getLogger("parley.pipeline")

Json = dict[str, Any]
ENDS = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED)
SILENCE_S = 0.15
"""The silence after which the answer is asked for: the VAD hears it ≈ 0.1 s late, and the
worker's end of turn comes ≈ 0.65 s after the last word, so a provider that takes 0.5 s to its
first audio is ready about when the turn ends. A pause this long inside a sentence costs a
response that is thrown away (priced in the report)."""
OURS_S = 5.0
"""How long an error may still come for a cancel or delete sent here (it is then ours)."""


@dataclass
class _Early:
    client_id: str
    created_at: float = field(default_factory=time.time)
    response_id: str | None = None
    items: set[str] = field(default_factory=set)
    held: list[aiohttp.WSMessage] = field(default_factory=list)
    done: Json | None = None
    """The provider's ``response.done``, once it came."""
    stale: bool = False
    adopted_as: str | None = None
    """The id of the worker's own ``response.create`` it answers, once taken over."""
    request: Any = None
    """That request, sent as it is should the provider refuse the early one."""
    failed: bool = False


class HeldSocket:
    """The provider's socket as the plugin reads it: what :class:`EarlyReplies` holds back
    waits; it releases the rest in order."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, early: EarlyReplies) -> None:
        self._ws, self._early = ws, early
        self._ready: asyncio.Queue[aiohttp.WSMessage] = asyncio.Queue()
        self._reading = asyncio.create_task(self._read(), name="early reply socket")

    async def _read(self) -> None:
        while True:
            msg = await self._ws.receive()
            try:
                reads = msg.type != aiohttp.WSMsgType.TEXT or self._early.reads(msg)
            except Exception:  # an event of a shape not foreseen still reaches the plugin
                logger.exception("early reply: cannot place a server event")
                reads = True
            if reads:
                self._ready.put_nowait(msg)
            if msg.type in ENDS or msg.type == aiohttp.WSMsgType.ERROR:
                return

    def release(self, msgs: list[aiohttp.WSMessage]) -> None:
        for msg in msgs:
            self._ready.put_nowait(msg)

    async def receive(self) -> aiohttp.WSMessage:
        return await self._ready.get()

    async def send_str(self, data: str) -> None:
        await self._ws.send_str(data)

    @property
    def closed(self) -> bool:
        return self._ws.closed

    async def close(self) -> bool:
        try:
            return await self._ws.close()
        finally:
            await utils.aio.cancel_and_wait(self._reading)
            # the plugin waiting on receive() learns it is over, as from the socket itself
            self._ready.put_nowait(aiohttp.WSMessage(aiohttp.WSMsgType.CLOSED, None, None))


class EarlyReplies:
    """One realtime session's early responses. ``send`` writes a client event past the
    session's own ``send_event``; ``discarded`` hears the usage of each response thrown away."""

    def __init__(
        self,
        session: openai.realtime.RealtimeSession,
        send: Callable[[Json], None],
        discarded: Callable[[RealtimeModelMetrics], None],
    ) -> None:
        self._session, self._raw_send, self._discarded = session, send, discarded
        self._socket: HeldSocket | None = None
        self.pending: _Early | None = None
        """The early response not yet taken over or thrown away."""
        self._by_client: dict[str, _Early] = {}
        self._by_response: dict[str, _Early] = {}
        self._by_item: dict[str, _Early] = {}
        self._deleting: set[str] = set()
        self._ours: dict[str, float] = {}
        """Client event ids of the cancels and deletes sent here, until when their errors
        are ours (a cancel may cross the response's end)."""
        self._deferred: list[Any] = []
        """The worker's ``response.create``, while a cancelled early response still runs."""

    def socket(self, ws: aiohttp.ClientWebSocketResponse) -> HeldSocket:
        """A new connection: what the last one had in flight is gone with it."""
        self._socket = HeldSocket(ws, self)
        self.pending, self._deferred = None, []
        for table in (self._by_client, self._by_response, self._by_item):
            table.clear()
        self._deleting.clear()
        self._ours.clear()
        return self._socket

    # -- the user -------------------------------------------------------------------------

    def speech(self, started: bool) -> None:
        """The VAD heard the user start or stop speaking."""
        if started:
            if self.pending is not None:
                self._drop(self.pending)
            return
        s = self._session
        if self._socket is None or self.pending is not None or s.has_active_generation:
            return
        s._append_audio(s._bstream.flush())
        if s._pushed_duration_s <= 0.1:  # what OpenAI commits at the least
            return
        s.commit_audio()
        early = _Early(utils.shortuuid("early_response_"))
        self._by_client[early.client_id] = early
        self.pending = early
        response = {"metadata": {"client_event_id": early.client_id}}
        self._send({"type": "response.create", "event_id": early.client_id, "response": response})

    # -- the worker ------------------------------------------------------------------------

    def commit(self) -> bool:
        """The worker ended the turn: True when the early response answers it (the silence
        appended since is then cleared, not committed)."""
        if self.pending is None or self.pending.stale:
            return False
        self._session.clear_audio()
        return True

    def sends(self, event: Any) -> bool:
        """A client event the plugin sends: False when it is not to go out as it is."""
        kind = event["type"] if isinstance(event, dict) else event.type
        if kind not in ("session.update", "conversation.item.create", "response.create"):
            return True
        ev: Json = event if isinstance(event, dict) else event.model_dump(exclude_none=True)
        if kind != "response.create":
            # a change to what the early response read makes it stale (the stall watch's
            # probe, a session.update with no field, changes nothing)
            changes = kind == "conversation.item.create" or set(ev.get("session", {})) - {"type"}
            if self.pending is not None and changes:
                self._drop(self.pending)
            return True
        early = self.pending
        if early is not None and early.failed:
            self.pending = None
            return True
        if early is not None and _plain(ev.get("response") or {}):
            early.request = event
            self._adopt(early, str(ev.get("event_id")))
            return False
        if early is not None:
            self._drop(early)
        if any(e.done is None for e in self._by_response.values()) or any(
            e.response_id is None and e.stale for e in self._by_client.values()
        ):
            self._deferred.append(event)
            return False
        return True

    def _adopt(self, early: _Early, event_id: str) -> None:
        self.pending, early.adopted_as = None, event_id
        held, early.held = early.held, []
        if held:
            held[0] = _answering(held[0], event_id)
            self._forget(early)
        self._release(held)

    def _drop(self, early: _Early) -> None:
        self.pending, early.stale = None, True
        early.held.clear()
        if early.response_id is not None and early.done is None:
            self._send({"type": "response.cancel", "response_id": early.response_id})
        elif early.done is not None:
            self._thrown_away(early)

    # -- the provider ----------------------------------------------------------------------

    def reads(self, msg: aiohttp.WSMessage) -> bool:
        """A server message: True when the plugin reads it now."""
        if self._ours:
            now = time.monotonic()
            self._ours = {k: until for k, until in self._ours.items() if until > now}
        if not (self._by_client or self._deleting or self._ours):
            return True  # nothing early in flight: not even parsed
        event: Json = json.loads(msg.data)
        kind = event.get("type", "")
        if kind == "error" and (early := self._refused(event)) is not None:
            self._failed(early, event)
            return False
        early = self._owner(event, kind)
        if early is None:
            return not self._ours_echo(event, kind)
        if kind == "response.output_item.added":
            item = str(event["item"]["id"])
            early.items.add(item)
            self._by_item[item] = early
        if early.adopted_as is not None:  # taken over before the provider created it
            self._forget(early)
            self._release([_answering(msg, early.adopted_as)])
            return False
        if kind == "response.done":
            early.done = event
            if early.stale:
                self._thrown_away(early)
        if early.stale:
            if kind == "response.created":
                self._send({"type": "response.cancel", "response_id": early.response_id})
            return False
        early.held.append(msg)
        return False

    def _owner(self, event: Json, kind: str) -> _Early | None:
        if kind == "response.created":
            metadata = event.get("response", {}).get("metadata") or {}
            early = self._by_client.get(str(metadata.get("client_event_id")))
            if early is not None:
                early.response_id = str(event["response"]["id"])
                self._by_response[early.response_id] = early
            return early
        if kind == "response.done":
            return self._by_response.get(str(event.get("response", {}).get("id")))
        if "response_id" in event:
            return self._by_response.get(str(event["response_id"]))
        if kind.startswith("conversation.item.") and kind != "conversation.item.deleted":
            return self._by_item.get(str((event.get("item") or {}).get("id")))
        return None

    def _refused(self, event: Json) -> _Early | None:
        return self._by_client.get(str((event.get("error") or {}).get("event_id")))

    def _failed(self, early: _Early, error: Json) -> None:
        """The provider refused the early request (one response at a time, say): the turn's
        audio is committed all the same, and the worker's own request goes out as it was."""
        logger.info("early reply refused: %s", (error.get("error") or {}).get("code"))
        self._forget(early)
        early.failed = True
        if early.adopted_as is not None:
            self._raw_send(early.request)

    def _ours_echo(self, event: Json, kind: str) -> bool:
        """The answer to a cancel or delete sent here: the plugin never knew those items."""
        if kind == "conversation.item.deleted" and event.get("item_id") in self._deleting:
            self._deleting.discard(event["item_id"])
            return True
        client_event = (event.get("error") or {}).get("event_id")
        if kind == "error" and client_event in self._ours:
            del self._ours[client_event]
            logger.debug("early reply: %s", event["error"].get("message"))
            return True
        return False

    def _thrown_away(self, early: _Early) -> None:
        for item in early.items:
            self._deleting.add(item)
            self._send({"type": "conversation.item.delete", "item_id": item})
        self._forget(early)
        self._discarded(self._usage(early, (early.done or {}).get("response") or {}))
        deferred, self._deferred = self._deferred, []
        for event in deferred:
            self._session.send_event(event)  # as the plugin would have

    def _usage(self, early: _Early, response: Json) -> RealtimeModelMetrics:
        usage: Json = response.get("usage") or {}
        model = self._session._realtime_model
        duration = time.time() - early.created_at
        return RealtimeModelMetrics(
            label=model.label,
            request_id=early.response_id or early.client_id,
            timestamp=early.created_at,
            duration=duration,
            cancelled=response.get("status") == "cancelled",
            input_tokens=usage.get("input_tokens", 0),
            output_tokens=usage.get("output_tokens", 0),
            total_tokens=usage.get("total_tokens", 0),
            input_token_details=RealtimeModelMetrics.InputTokenDetails.model_validate(
                usage.get("input_token_details") or {}
            ),
            output_token_details=RealtimeModelMetrics.OutputTokenDetails.model_validate(
                usage.get("output_token_details") or {}
            ),
            metadata=Metadata(model_name=model.model, model_provider=model.provider),
        )

    def _forget(self, early: _Early) -> None:
        self._by_client.pop(early.client_id, None)
        if early.response_id is not None:
            self._by_response.pop(early.response_id, None)
        for item in early.items:
            self._by_item.pop(item, None)

    def _release(self, msgs: list[aiohttp.WSMessage]) -> None:
        assert self._socket is not None
        self._socket.release(msgs)

    def _send(self, event: Json) -> None:
        event.setdefault("event_id", utils.shortuuid("early_"))
        if event["type"] != "response.create":
            self._ours[event["event_id"]] = time.monotonic() + OURS_S
        self._raw_send(event)


def _plain(params: Json) -> bool:
    """A reply to the conversation as it is: no instructions, tools or choice of its own."""
    return not any(params.get(k) for k in ("instructions", "tools", "tool_choice"))


def _answering(msg: aiohttp.WSMessage, event_id: str) -> aiohttp.WSMessage:
    """``response.created`` as the answer to the worker's ``response.create``."""
    event: Json = json.loads(msg.data)
    event["response"]["metadata"] = {
        **(event["response"].get("metadata") or {}),
        "client_event_id": event_id,
    }
    return aiohttp.WSMessage(aiohttp.WSMsgType.TEXT, json.dumps(event), None)
