"""The Parley worker: one LiveKit AgentServer; each dispatched room gets its own job process.

A room's bad config or provider failure is reported to that room (``parley.error``) and
ends only that job: the worker and every other room carry on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile

from livekit import rtc
from livekit.agents import (
    AgentServer,
    AgentSession,
    JobContext,
    JobProcess,
    room_io,
)
from livekit.agents.voice.events import CloseEvent, CloseReason, ErrorEvent
from livekit.agents.worker import _default_load_threshold
from livekit.plugins import silero

from .background import spawn
from .config import ErrorCode, ErrorReport, Layer, ParleyError, RoomConfig, resolve
from .config.defaults import worker_layers
from .modes import build_agent
from .modes import interpreter as interpreter_mode
from .modes import meeting as meeting_mode
from .pipeline.build import build_session
from .pipeline.endpoints import ensure_reachable, require_credentials
from .pipeline.offline import preload
from .privacy import drop_personal_data
from .reports.session import SessionRecorder
from .settings import WorkerSettings

logger = logging.getLogger("parley")
drop_personal_data()  # runs in the worker and in every job process that imports it

ERROR_ATTRIBUTE = "parley.error"


def prewarm(proc: JobProcess) -> None:
    """Loads models once per job process, not once per room: the VAD, and when the worker's
    default pipeline is a local cascade, its STT, LLM and TTS models and the end-of-turn
    model, so the first turn of a room pays no load time."""
    proc.userdata["vad"] = silero.VAD.load()
    with contextlib.suppress(ParleyError):  # a broken default is reported to each room
        preload(resolve(worker_layers(WorkerSettings.from_env())))


def room_config(ctx: JobContext, settings: WorkerSettings) -> RoomConfig:
    return resolve(
        [
            *worker_layers(settings),
            Layer("room metadata", ctx.job.room.metadata),
            Layer("dispatch metadata", ctx.job.metadata),
        ]
    )


async def tell_room(ctx: JobContext, report: ErrorReport) -> None:
    """Sets ``parley.error`` and logs one warning (no transcript text, no secrets)."""
    logger.warning(
        "room %s: %s at %r: %s", ctx.job.room.name, report.code, report.field, report.message
    )
    if not ctx.room.isconnected():
        await ctx.connect()
    await ctx.room.local_participant.set_attributes({ERROR_ATTRIBUTE: report.to_attribute()})


async def report_error(ctx: JobContext, report: ErrorReport, grace_s: float) -> None:
    """Tells the room what is wrong, then leaves after a grace period so clients can read it."""
    await tell_room(ctx, report)
    await asyncio.sleep(grace_s)
    ctx.shutdown(reason=f"parley.error: {report.code}")


async def start_room(ctx: JobContext, settings: WorkerSettings) -> None:
    config = room_config(ctx, settings)
    require_credentials(config.pipeline)
    # Probe the provider while joining the room, so a healthy room pays no extra latency.
    reachable = asyncio.create_task(ensure_reachable(config.pipeline))
    try:
        await ctx.connect()
    finally:
        await reachable
    if config.mode == "interpreter":
        await start_interpreter(ctx, config)
    elif config.mode == "meeting":
        await start_meeting(ctx, config, settings)
    else:
        await start_session(ctx, config, settings)


async def start_interpreter(ctx: JobContext, config: RoomConfig) -> None:
    def report(error: ErrorReport) -> None:  # the agent stays for the pairs it can serve
        spawn(tell_room(ctx, error))

    try:
        interp = await interpreter_mode.start(ctx.room, config, report)
    except ValueError as e:  # a plugin refused its options
        raise ParleyError(ErrorCode.PROVIDER_ERROR, "pipeline", str(e)) from None
    ctx.add_shutdown_callback(interp.aclose)


async def open_session(
    ctx: JobContext, config: RoomConfig, settings: WorkerSettings
) -> AgentSession[None]:
    """The room's pipeline as an AgentSession, watched for failures; not started yet."""
    try:
        session = await build_session(config, ctx.proc.userdata["vad"])
    except ValueError as e:  # plugins reject bad credentials files and options this way
        raise ParleyError(ErrorCode.PROVIDER_ERROR, "pipeline", str(e)) from None
    watch_session(ctx, session, settings)
    recorder = SessionRecorder(
        session,
        ctx.room,
        config,
        job_id=ctx.job.id,
        reports_dir=settings.data_dir / "reports",
    )

    async def report_on_shutdown() -> None:  # the session may end without closing first
        recorder.finish()

    ctx.add_shutdown_callback(report_on_shutdown)
    return session


async def start_session(ctx: JobContext, config: RoomConfig, settings: WorkerSettings) -> None:
    session = await open_session(ctx, config, settings)
    await session.start(agent=build_agent(config), room=ctx.room)


async def start_meeting(ctx: JobContext, config: RoomConfig, settings: WorkerSettings) -> None:
    """The session only speaks: the assistant hears every participant itself. The assistant
    starts first, so once the agent shows as listening every track is being transcribed."""
    session = await open_session(ctx, config, settings)
    try:
        assistant = await meeting_mode.start(
            ctx.room, config, session, ctx.proc.userdata["vad"], settings.data_dir
        )
    except ValueError as e:  # a plugin refused its options
        raise ParleyError(ErrorCode.PROVIDER_ERROR, "meeting", str(e)) from None

    async def end() -> None:
        try:
            await assistant.finish()
        finally:
            ctx.shutdown(reason="meeting ended: the last participant left")

    def on_left(_: rtc.RemoteParticipant) -> None:
        if not assistant.humans():
            spawn(end())

    async def on_shutdown() -> None:  # e.g. the room was deleted: the notes still get written
        await assistant.finish()
        await assistant.aclose()

    ctx.room.on("participant_disconnected", on_left)
    ctx.add_shutdown_callback(on_shutdown)
    quiet = room_io.RoomOptions(audio_input=False, text_input=False, close_on_disconnect=False)
    await session.start(agent=meeting_mode.MeetingAgent(config), room=ctx.room, room_options=quiet)


def watch_session(ctx: JobContext, session: AgentSession[None], settings: WorkerSettings) -> None:
    """Turns provider failures during the session into ``parley.error``."""

    def on_error(ev: ErrorEvent) -> None:
        if getattr(ev.error, "recoverable", True):
            return
        report = ErrorReport(
            code=ErrorCode.PROVIDER_ERROR,
            field="pipeline",
            message=f"the provider failed and could not recover ({type(ev.error).__name__}): "
            "check the provider's status, key and quota, then dispatch the agent again.",
        )
        spawn(report_error(ctx, report, settings.error_grace_s))

    def on_close(ev: CloseEvent) -> None:
        if ev.reason != CloseReason.ERROR:
            ctx.shutdown(reason=f"session closed: {ev.reason.value}")

    session.on("error", on_error)
    session.on("close", on_close)


async def entrypoint(ctx: JobContext) -> None:
    # Runs in the job process: settings come from the environment the worker passed down.
    settings = WorkerSettings.from_env()
    try:
        await start_room(ctx, settings)
    except ParleyError as e:
        await report_error(ctx, e.report, settings.error_grace_s)
    except Exception:
        logger.exception("room %s: unexpected error while starting", ctx.job.room.name)
        report = ErrorReport(
            code=ErrorCode.INTERNAL_ERROR,
            field="",
            message="Parley failed to start in this room; the worker log has the details.",
        )
        await report_error(ctx, report, settings.error_grace_s)


def create_server(settings: WorkerSettings) -> AgentServer:
    idle, threshold = settings.idle_processes, settings.load_threshold
    # Unset settings keep livekit-agents' own defaults, which differ between dev and start.
    server = AgentServer(
        load_threshold=_default_load_threshold if threshold is None else threshold,
        port=settings.http_port,
        num_idle_processes=AgentServer._default_num_idle_processes if idle is None else idle,
        # livekit-agents' health server takes no extra routes, so metrics have their own port;
        # job processes write to the multiprocess directory, which the endpoint sums.
        prometheus_port=settings.metrics_port,
        prometheus_multiproc_dir=tempfile.mkdtemp(prefix="parley-metrics-"),
    )
    server.setup_fnc = prewarm
    server.rtc_session(entrypoint, agent_name=settings.agent_name)
    return server
