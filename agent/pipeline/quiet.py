"""A speech-to-speech socket that goes quiet is replaced: livekit-plugins-openai and
livekit-plugins-google wait on an open socket that says nothing for as long as it stays open,
and the room is stuck.

Silence from the provider proves nothing while nobody speaks, so a local VAD hears the user.
Once they stop, the turn is open until the provider ends its reply, and while it is open the
provider must say something (its end of speech, the commit, the reply) every ``STALL_S``.
When it does not, an OpenAI socket is asked first: a ``session.update`` that changes nothing,
which a live provider answers with ``session.updated`` (it may just not have taken a noise for
a turn). Gemini Live has no such question, so a Gemini session quiet for ``STALL_S`` +
``PROBE_S`` is restarted straight away; its resumption handle keeps the conversation. A socket
replaced this way goes the plugin's reconnect path, as a dropped one does: the turn in progress
is lost, the session's ``error`` event reports it, and the next turn is answered.

The OpenAI session also sends each frame of the user's audio as it comes from the room, not in
the plugin's 100 ms chunks: the last word of a turn waited up to twice a frame for its chunk to
fill before the provider heard it (``scripts/bench hops``). Gemini's plugin already sends 50 ms.
Where the worker ends the turns, the same VAD starts the answer early (:mod:`.early`) and keeps
the quiet between turns out of the commit (:mod:`.idle`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

import aiohttp
from google.genai import types
from livekit import rtc
from livekit.agents import APIConnectionError, room_io, utils
from livekit.agents import vad as vad_
from livekit.agents.metrics import RealtimeModelMetrics
from livekit.plugins import google, openai
from livekit.plugins.google.realtime import realtime_api as gemini

from .early import EarlyReplies, HeldSocket
from .idle import IdleTrim
from .stalls import STALL_S

logger = logging.getLogger("parley.pipeline")

PROBE_S = 2.0
"""How long a live socket may take to answer the probe (a round trip: ≈ 0.1 s when well)."""
PROBE = {"type": "session.update", "session": {"type": "realtime"}}
"""Updates no field: only those present in a ``session.update`` change."""
OPENS = ("input_audio_buffer.committed", "response.created")
"""OpenAI events that open a turn the provider owes an answer to."""


class TurnWatch:
    """What a provider owes the user: once the VAD hears them stop, the provider must keep
    talking until its reply ends. ``probe`` asks a quiet socket whether it is alive (a no-op
    where the protocol has no harmless question: the socket then gets ``PROBE_S`` more to
    speak up); ``replace`` ends the socket."""

    def __init__(
        self,
        vad: vad_.VAD,
        stall_s: float,
        probe: Callable[[], None],
        replace: Callable[[], Awaitable[None]],
        speech: Callable[[bool], None] | None = None,
    ) -> None:
        """``speech`` hears the VAD's start (True) and end of the user's speech."""
        self.stall_s, self._probe, self._replace = stall_s, probe, replace
        self._speech = speech
        self._open = self._speaking = self._probed = False
        self._due: float | None = None
        """When the provider must have said something."""
        self._heard = vad.stream()
        self._watching = asyncio.create_task(self._watch(), name="quiet socket watch")

    def _arm(self, after_s: float | None = None) -> None:
        # nothing is owed while the user still talks: the provider listens quietly
        owed = self._open and not self._speaking
        self._due = time.monotonic() + (after_s or self.stall_s) if owed else None

    def hear(self, frame: rtc.AudioFrame) -> None:
        self._heard.push_frame(frame)

    def connected(self) -> None:
        self._open = self._probed = False
        self._arm()

    def said(self, *, opens: bool = False, ends: bool = False) -> None:
        """The provider said something; ``opens``: it owes a reply, ``ends``: its reply is
        over. An answered probe ends the turn too: a live provider decides what to answer."""
        if ends:
            self._open = False
        elif opens:
            self._open = True
        elif self._probed:
            self._open = False
        self._probed = False
        self._arm()

    async def _watch(self) -> None:
        async def listen() -> None:
            async for ev in self._heard:
                if ev.type == vad_.VADEventType.START_OF_SPEECH:
                    self._speaking = True
                elif ev.type == vad_.VADEventType.END_OF_SPEECH:
                    self._speaking, self._open = False, True
                else:
                    continue
                self._arm()
                if self._speech is not None:
                    self._speech(self._speaking)

        listening = asyncio.create_task(listen())
        try:
            while True:
                await asyncio.sleep(0.1)
                if self._due is None or time.monotonic() < self._due:
                    continue
                if not self._probed:
                    self._probed = True
                    self._probe()
                    self._arm(PROBE_S)
                    continue
                self._probed, self._open, self._due = False, False, None
                logger.warning("realtime socket said nothing for %.0f s: replacing it",
                               self.stall_s + PROBE_S)  # fmt: skip
                await self._replace()
        finally:
            await utils.aio.cancel_and_wait(listening)

    async def aclose(self) -> None:
        await utils.aio.cancel_and_wait(self._watching)
        await self._heard.aclose()


class OpenAIRealtime(openai.realtime.RealtimeModel):
    """livekit-plugins-openai's RealtimeModel whose sessions are watched; it keeps the
    plugin's label."""

    def __init__(
        self, vad: vad_.VAD, stall_s: float = STALL_S, early: bool = False, **options: Any
    ) -> None:
        """``early``: where the worker ends the turns, start the answer early
        (:mod:`.early`)."""
        super().__init__(**options)
        self._label = f"{openai.realtime.RealtimeModel.__module__}.RealtimeModel"
        self.vad, self.stall_s, self.early = vad, stall_s, early
        self.discarded: list[RealtimeModelMetrics] = []
        """The usage of each early answer thrown away (the user went on)."""

    def session(self, *, turn_detection_disabled: bool = False) -> openai.realtime.RealtimeSession:
        sess = _OpenAISession(self, turn_detection_disabled=turn_detection_disabled)
        self._sessions.add(sess)
        return sess


class _OpenAISession(openai.realtime.RealtimeSession):
    def __init__(self, model: OpenAIRealtime, *, turn_detection_disabled: bool) -> None:
        self.early: EarlyReplies | None = None  # the plugin sends its first event in __init__
        self.idle: IdleTrim | None = None
        super().__init__(model, turn_detection_disabled=turn_detection_disabled)
        rate = openai.realtime.realtime_model.SAMPLE_RATE
        frame = rate * room_io.AudioInputOptions.frame_size_ms // 1000  # the room's input frame
        self._bstream = utils.audio.AudioByteStream(
            rate, openai.realtime.realtime_model.NUM_CHANNELS, samples_per_channel=frame
        )
        self._socket: aiohttp.ClientWebSocketResponse | HeldSocket | None = None
        if turn_detection_disabled:  # the worker ends the turns
            self.idle = IdleTrim(self)
            if model.early:
                self.early = EarlyReplies(self, super().send_event, self._discard)
        self.watch = TurnWatch(
            model.vad, model.stall_s, self._ask, self._close_socket, self._speech
        )
        self.on("openai_server_event_received", self._said)

    async def _create_ws_conn(self) -> aiohttp.ClientWebSocketResponse:
        ws = await super()._create_ws_conn()
        # the early answers' events wait in front of the plugin's reader
        self._socket = ws if self.early is None else self.early.socket(ws)
        self.watch.connected()
        return cast(aiohttp.ClientWebSocketResponse, self._socket)

    def send_event(self, event: Any) -> None:
        if self.early is None or self.early.sends(event):
            super().send_event(event)

    def commit_audio(self) -> None:
        if self.early is None or not self.early.commit():
            super().commit_audio()
        if self.idle is not None:
            self.idle.committed()

    def clear_audio(self) -> None:
        super().clear_audio()
        if self.idle is not None:
            self.idle.committed()

    def _append_audio(self, frames: list[rtc.AudioFrame]) -> None:
        super()._append_audio(frames)
        if self.idle is not None:
            self.idle.appended(frames)

    def _speech(self, started: bool) -> None:
        if started and self.idle is not None:
            self.idle.speech_started()
        if self.early is not None:
            self.early.speech(started)

    def _discard(self, usage: RealtimeModelMetrics) -> None:
        cast(OpenAIRealtime, self._realtime_model).discarded.append(usage)
        self.emit("metrics_collected", usage)  # billed like any response

    def push_audio(self, frame: rtc.AudioFrame) -> None:
        super().push_audio(frame)
        self.watch.hear(frame)

    def _said(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        self.watch.said(opens=kind in OPENS, ends=kind == "response.done")

    def _ask(self) -> None:
        self.send_event(PROBE)

    async def _close_socket(self) -> None:
        if self._socket is not None and not self._socket.closed:
            await self._socket.close()

    async def aclose(self) -> None:
        await self.watch.aclose()
        await super().aclose()


class GeminiRealtime(google.realtime.RealtimeModel):
    """livekit-plugins-google's RealtimeModel whose sessions are watched; it keeps the
    plugin's label."""

    def __init__(self, vad: vad_.VAD, stall_s: float = STALL_S, **options: Any) -> None:
        super().__init__(**options)
        self._label = f"{google.realtime.RealtimeModel.__module__}.RealtimeModel"
        self.vad, self.stall_s = vad, stall_s

    def session(self, *, turn_detection_disabled: bool = False) -> gemini.RealtimeSession:
        sess = _GeminiSession(self)
        self._sessions.add(sess)
        return sess


class _GeminiSession(gemini.RealtimeSession):
    def __init__(self, model: GeminiRealtime) -> None:
        super().__init__(model)
        self.watch = TurnWatch(model.vad, model.stall_s, lambda: None, self._restart)

    def push_audio(self, frame: rtc.AudioFrame) -> None:
        super().push_audio(frame)
        self.watch.hear(frame)

    def commit_audio(self) -> None:
        # With the worker ending turns, the reply request closes the user's activity
        # (``activityEnd``): nothing to commit, and the plugin would warn on every turn.
        if not self._manual_activity_detection:
            super().commit_audio()

    def _handle_server_content(self, server_content: types.LiveServerContent) -> None:
        self.watch.said(
            opens=server_content.model_turn is not None,
            ends=bool(server_content.turn_complete or server_content.interrupted),
        )
        super()._handle_server_content(server_content)

    def _handle_usage_metadata(self, usage_metadata: types.UsageMetadata) -> None:
        self.watch.said()
        super()._handle_usage_metadata(usage_metadata)

    async def _restart(self) -> None:
        # what a failed receive does: the main task reconnects, resumes and reports it
        self._session_error = APIConnectionError(
            message=f"Gemini Live said nothing for {self.watch.stall_s + PROBE_S:g} s"
        )
        self._mark_restart_needed(on_error=True)

    async def aclose(self) -> None:
        await self.watch.aclose()
        await super().aclose()
