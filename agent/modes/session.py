"""Session assembly for the modes that speak through an AgentSession: the room's pipeline
built, watched for failures, and recorded in the session report."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from livekit.agents import Agent, AgentSession, llm, room_io, stt, tts
from livekit.agents.types import NOT_GIVEN, NotGivenOr
from livekit.agents.voice.events import (
    AgentStateChangedEvent,
    CloseEvent,
    CloseReason,
    ErrorEvent,
)

from ..config.errors import ErrorCode, ErrorReport
from ..pipeline.build import build_session, listen_through
from ..reports.session import SessionRecorder
from .context import RoomContext


async def open_session(room: RoomContext, *, accurate: bool = False) -> AgentSession[None]:
    """The room's pipeline as an AgentSession, watched and recorded; not started yet.
    ``accurate``: an offline English STT is Whisper base, not tiny.en."""
    with room.options_of("pipeline"):
        session = await build_session(room.config, room.vad, accurate=accurate)
    recorder = SessionRecorder(
        session,
        room.room,
        room.config,
        job_id=room.job.job.id,
        reports_dir=room.settings.data_dir / "reports",
        file_stem=room.file_stem,
    )
    watch(room, session, recorder.report.errors.append)

    async def report_on_shutdown() -> None:  # the session may end without closing first
        recorder.finish()

    room.job.add_shutdown_callback(report_on_shutdown)
    return session


def watch(room: RoomContext, session: AgentSession[None], outage: Callable[[str], None]) -> None:
    """Turns provider failures during the session into ``parley.error`` (those it cannot
    recover from) or ``parley.status`` (those it can); a session that closes for another
    reason ends the job. ``outage`` hears of each provider a fallback stands in for (the
    session's own errors never name those: the adapter hides them)."""

    def on_error(ev: ErrorEvent) -> None:
        if getattr(ev.error, "recoverable", True):
            # The plugin retries or reconnects by itself (a realtime socket that dropped
            # loses the answer in progress): the room hears of it until the agent speaks.
            room.status.told("provider", "pipeline", type(ev.error).__name__)
            return
        room.fail(
            ErrorReport(
                code=ErrorCode.PROVIDER_ERROR,
                field="pipeline",
                message=f"the provider failed and could not recover ({type(ev.error).__name__}"
                "): check the provider's status, key and quota, then dispatch the agent again.",
            )
        )

    def on_close(ev: CloseEvent) -> None:
        if ev.reason != CloseReason.ERROR:
            room.job.shutdown(reason=f"session closed: {ev.reason.value}")

    def on_state(ev: AgentStateChangedEvent) -> None:
        if ev.new_state == "speaking":
            room.status.told("provider", "pipeline", None)

    session.on("error", on_error)
    session.on("close", on_close)
    session.on("agent_state_changed", on_state)
    stt_stage = (
        session.stt.wrapped_stt if isinstance(session.stt, stt.StreamAdapter) else session.stt
    )
    if isinstance(stt_stage, stt.FallbackAdapter):
        stt_stage.on("stt_availability_changed", _availability(room, "stt", outage))
    if isinstance(session.llm, llm.FallbackAdapter):
        session.llm.on("llm_availability_changed", _availability(room, "llm", outage))
    if isinstance(session.tts, tts.FallbackAdapter):
        session.tts.on("tts_availability_changed", _availability(room, "tts", outage))


def _availability(
    room: RoomContext, part: str, outage: Callable[[str], None]
) -> Callable[[Any], None]:
    """A stage's provider that its fallback adapter takes out of (or back into) service:
    the room is told while the stage runs on a fallback."""

    def changed(ev: Any) -> None:
        who = f"pipeline.{part}: {getattr(ev, part).label}"
        if not ev.available:
            outage(f"{who} unavailable, a fallback serves")
        room.status.told(part, who, None if ev.available else "unavailable, a fallback serves")

    return changed


async def start(
    room: RoomContext,
    session: AgentSession[None],
    agent: Agent,
    room_options: NotGivenOr[room_io.RoomOptions] = NOT_GIVEN,
) -> None:
    """Starts the session in the room. LiveKit Cloud records it only when the room config
    says so (``record``): livekit-agents would otherwise follow the project's setting."""
    await session.start(
        agent=agent,
        room=room.room,
        room_options=room_options,
        record=room.config.record,
    )
    listen_through(session, room.config)
