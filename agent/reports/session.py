"""The session report: each turn's timing, interruptions, usage, dollars and errors.

An observer: it reads what livekit-agents already measures (``ChatMessage.metrics``,
``session.usage``, the realtime model's time to first token) and changes nothing in the
flow. Each turn is published as the agent attribute ``parley.turn`` and the running report
on topic ``parley.report``; when the session closes the report is also written to the
reports directory. Numbers only: no transcript text.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from livekit import rtc
from livekit.agents import AgentSession, metrics
from livekit.agents.voice.events import (
    CloseEvent,
    ConversationItemAddedEvent,
    ErrorEvent,
    UserStateChangedEvent,
)
from livekit.plugins.participants import private_dir, write_private
from pydantic import BaseModel

from .. import protocol
from ..background import spawn
from ..config.models import CascadePipeline, RoomConfig
from ..pipeline.quiet import OpenAIRealtime
from ..privacy import scrub
from . import metrics as prom
from .cost import Cost, Usage, session_cost
from .preemptive import EarlyTally, Preemptive, PreemptiveTally
from .publish import publish
from .turns import TurnTiming

logger = logging.getLogger("parley.reports")


class SessionReport(BaseModel):
    room: str
    job_id: str
    mode: str
    pipeline: str
    started_at: float
    ended_at: float | None = None
    duration_s: float = 0.0
    turns: list[TurnTiming] = []
    interruptions: int = 0
    errors: list[str] = []
    usage: list[dict[str, Any]] = []
    cost: Cost | None = None
    preemptive: Preemptive | None = None
    """Cascades: the replies started before the turn ended and thrown away."""


def pipeline_label(config: RoomConfig) -> str:
    if config.translator is not None:
        return f"translation:{config.translator}"
    p = config.pipeline
    if isinstance(p, CascadePipeline):
        return f"cascade:{p.stt.provider}+{p.llm.provider}+{p.tts.provider}"
    return f"realtime:{p.provider}"


class SessionRecorder:
    def __init__(
        self,
        session: AgentSession[None] | None,
        room: rtc.Room,
        config: RoomConfig,
        *,
        job_id: str,
        reports_dir: Path,
        file_stem: str,
        usage: Callable[[], list[Usage]] | None = None,
    ) -> None:
        """``file_stem``: the room's, so no two rooms' reports share a file. Without a
        ``session`` (a mode that runs its models itself) there are no turns: ``usage`` says
        what the models used, and the mode adds errors and calls ``finish``."""
        self._room, self._config = room, config
        if usage is None:
            assert session is not None
            agent_session = session

            def usage() -> list[Usage]:
                return list(agent_session.usage.model_usage)

        self._usage: Callable[[], list[Usage]] = usage
        self._path = reports_dir / f"{file_stem}-{job_id}.json"
        self._labels = {"mode": config.mode, "pipeline": pipeline_label(config)}
        self.report = SessionReport(
            room=scrub(room.name),  # a phone dispatch rule puts the number in it
            job_id=job_id,
            mode=config.mode,
            pipeline=self._labels["pipeline"],
            started_at=time.time(),
        )
        self._turn: TurnTiming | None = None
        """The user's turn waiting for the agent's answer."""
        self._user_stopped_at: float | None = None
        self._model_ttfb: float | None = None
        self._preemptive: PreemptiveTally | EarlyTally | None = None
        if session is None:
            return
        if isinstance(config.pipeline, CascadePipeline):
            self._preemptive = PreemptiveTally(session, config)
        elif isinstance(session.llm, OpenAIRealtime) and session.llm.early:
            self._preemptive = EarlyTally(session.llm.discarded, config)
        session.on("conversation_item_added", self._on_item)
        session.on("user_state_changed", self._on_user_state)
        session.on("error", self._on_error)
        session.on("close", self._on_close)
        # Usage lands after the reply that caused it: the running cost follows it.
        session.on("session_usage_updated", lambda _: self._send())
        if not isinstance(config.pipeline, CascadePipeline):
            # The realtime model's time to first audio is only reported this way in 1.8.9.
            session.on("metrics_collected", self._on_metrics)

    def _on_metrics(self, ev: Any) -> None:
        m = ev.metrics
        if not isinstance(m, metrics.RealtimeModelMetrics) or m.ttft < 0:
            return
        turns = self.report.turns
        # A provider may report the response's metrics after its audio was played out.
        if self._turn is None and turns and turns[-1].model_ttfb is None:
            turns[-1].model_ttfb = m.ttft
        else:
            self._model_ttfb = m.ttft

    def _on_user_state(self, ev: UserStateChangedEvent) -> None:
        if ev.old_state == "speaking" and ev.new_state != "speaking":
            self._user_stopped_at = ev.created_at

    def _on_item(self, ev: ConversationItemAddedEvent) -> None:
        item = ev.item
        if item.type != "message":
            return
        m = item.metrics
        if item.role == "user":
            self._turn = TurnTiming(
                transcription_delay=m.get("transcription_delay"),
                end_of_turn_delay=m.get("end_of_turn_delay"),
            )
            return
        if item.role != "assistant":
            return
        if item.interrupted:
            self.report.interruptions += 1
            prom.INTERRUPTIONS.labels(**self._labels).inc()
        if self._turn is None:
            return  # a greeting or another reply no user turn started
        stopped, started = self._user_stopped_at, m.get("started_speaking_at")
        timing = self._turn.model_copy(
            update={
                "llm_ttft": m.get("llm_node_ttft"),
                "llm_ttfs": m.get("llm_node_ttfs"),
                "tts_ttfb": m.get("tts_node_ttfb"),
                "model_ttfb": self._model_ttfb,
                "playback_latency": m.get("playback_latency"),
                "e2e_latency": m.get("e2e_latency"),
                # Gemini Live reports no end of user speech before it answers: no delay then.
                "response_delay": started - stopped
                if started and stopped and started > stopped
                else None,
                "user_stopped_at": stopped,
                "spoke_at": started,
                "interrupted": item.interrupted,
            }
        )
        self._turn, self._user_stopped_at, self._model_ttfb = None, None, None
        self.report.turns.append(timing)
        prom.TURNS.labels(**self._labels).inc()
        if timing.e2e_latency is not None:
            prom.V2V.labels(**self._labels).observe(timing.e2e_latency)
        if timing.response_delay is not None:
            prom.RESPONSE.labels(**self._labels).observe(timing.response_delay)
        publish(self._room, protocol.TURN, timing)
        self._send()

    def _on_error(self, ev: ErrorEvent) -> None:
        kind = type(ev.error).__name__
        # livekit-agents wraps what failed (LLMError around a timeout or a 503): name both
        cause = getattr(ev.error, "error", None)
        self.report.errors.append(f"{kind}: {type(cause).__name__}" if cause else kind)
        prom.ERRORS.labels(**self._labels, kind=kind).inc()

    def _on_close(self, _: CloseEvent) -> None:
        self.finish()

    def finish(self) -> SessionReport:
        r = self.report
        if r.ended_at is None:
            r.ended_at = time.time()
            r.duration_s = r.ended_at - r.started_at
            usage = self._usage()
            r.usage = [u.model_dump() for u in usage]
            r.cost = session_cost(usage, self._config, r.duration_s)
            self._tally_preemptive(r.duration_s)
            prom.COST.labels(**self._labels).inc(r.cost.total_dollars)
            self._write()
            self._send()
            logger.info(
                "session report: %d turns, %d interruptions, $%.4f",
                len(r.turns),
                r.interruptions,
                r.cost.total_dollars,
            )
        return r

    def _tally_preemptive(self, duration_s: float) -> None:
        if self._preemptive is not None:
            self.report.preemptive = self._preemptive.result(duration_s)

    def _write(self) -> None:
        try:
            private_dir(self._path.parent)
            write_private(self._path, self.report.model_dump_json(indent=2))
        except OSError as e:  # a full disk must not end the room
            logger.warning("cannot write the session report to %s: %s", self._path, e.strerror)

    def _send(self) -> None:
        """The running report, with the cost so far (``finish`` sets the final one)."""
        if self._room.isconnected():
            r = self.report
            if r.ended_at is None:
                so_far = time.time() - r.started_at
                r.cost = session_cost(self._usage(), self._config, so_far)
                self._tally_preemptive(so_far)
            text = r.model_dump_json()

            async def send() -> None:
                with contextlib.suppress(Exception):  # nobody left to receive it
                    await self._room.local_participant.send_text(text, topic=protocol.REPORT)

            spawn(send())
