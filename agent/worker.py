"""The Parley worker: one LiveKit AgentServer; each dispatched room gets its own job process
(or, with ``PARLEY_JOB_EXECUTOR=thread``, its own thread of the worker process).

A room's config is resolved and checked here, then the room is handed to its mode
(``agent.modes.MODES``). A room's bad config or provider failure is reported to that room
(``parley.error``) and ends only that job: the worker and every other room carry on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile

from livekit.agents import AgentServer, JobContext, JobExecutorType, JobProcess
from livekit.agents.worker import _default_load_threshold
from livekit.plugins import silero

from .background import spawn
from .config import ErrorCode, ErrorReport, Layer, ParleyError, RoomConfig, resolve
from .config.defaults import worker_layers
from .load import WorkerLoad
from .modes import FINISH_S, MODES, RoomContext
from .modes.context import leave_with_error
from .pipeline.offline import preload
from .preflight import ensure_reachable, require_credentials
from .privacy import drop_personal_data, pseudonym
from .rescue import Rescuer, forget_dispatch
from .settings import WorkerSettings
from .storage import keep_sweeping

logger = logging.getLogger("parley")


def prewarm(proc: JobProcess) -> None:
    """Loads models once per job process, not once per room: the VAD, and when the worker's
    default pipeline is a local cascade, its STT, LLM and TTS models and the end-of-turn
    model, so the first turn of a room pays no load time."""
    drop_personal_data()  # the job process's log handler exists by now
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


async def start_room(ctx: JobContext, settings: WorkerSettings) -> None:
    config = room_config(ctx, settings)
    require_credentials(config)
    # Probe the provider while joining the room, so a healthy room pays no extra latency.
    reachable = asyncio.create_task(ensure_reachable(config))
    try:
        await ctx.connect()
    finally:
        await reachable
    await MODES[config.mode](RoomContext(ctx, config, settings, ctx.proc.userdata["vad"]))


async def entrypoint(ctx: JobContext) -> None:
    # Runs in the job process: settings come from the environment the worker passed down.
    settings = WorkerSettings.from_env()

    async def ended_on_purpose() -> None:  # a killed job never gets here: its room is rescued
        await forget_dispatch(ctx)

    ctx.add_shutdown_callback(ended_on_purpose)
    try:
        await start_room(ctx, settings)
    except ParleyError as e:
        await leave_with_error(ctx, e.report, settings.error_grace_s)
    except Exception:
        logger.exception("room %s: unexpected error while starting", pseudonym(ctx.job.room.name))
        report = ErrorReport(
            code=ErrorCode.INTERNAL_ERROR,
            field="",
            message="Parley failed to start in this room; the worker log has the details.",
        )
        await leave_with_error(ctx, report, settings.error_grace_s)


SHUTDOWN_S = FINISH_S + 10.0
"""A job's time to end after its room does (livekit-agents' default, 10 s, is shorter than a
mode's end-of-room work), with room to spare."""


EXECUTORS = {"process": JobExecutorType.PROCESS, "thread": JobExecutorType.THREAD}


def create_server(settings: WorkerSettings) -> AgentServer:
    idle, threshold = settings.idle_processes, settings.load_threshold
    # Unset settings keep livekit-agents' own defaults, which differ between dev and start.
    server = AgentServer(
        load_threshold=_default_load_threshold if threshold is None else threshold,
        port=settings.http_port,
        num_idle_processes=AgentServer._default_num_idle_processes if idle is None else idle,
        job_executor_type=EXECUTORS[settings.job_executor],
        # livekit-agents' health server takes no extra routes, so metrics have their own port;
        # job processes write to the multiprocess directory, which the endpoint sums.
        prometheus_port=settings.metrics_port,
        prometheus_multiproc_dir=tempfile.mkdtemp(prefix="parley-metrics-"),
        shutdown_process_timeout=SHUTDOWN_S,
        # SIGTERM drains: no new rooms; those in flight go on until they end or this passes,
        # then each job gets SHUTDOWN_S to finish (an orchestrator's grace must cover both).
        drain_timeout=settings.drain_timeout_s,
        load_fnc=WorkerLoad(settings.max_rooms),
    )
    server.setup_fnc = prewarm

    def on_started() -> None:  # the CLI has set up logging, and the event loop runs
        drop_personal_data()
        spawn(keep_sweeping(settings.data_dir, settings.retention_days))
        if settings.rescue_after_s > 0:
            spawn(Rescuer(settings.agent_name, settings.rescue_after_s).run())

    server.on("worker_started", on_started)
    server.rtc_session(entrypoint, agent_name=settings.agent_name)
    return server
