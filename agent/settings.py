"""Worker-level settings from the environment (``.env`` / ``.env.local`` are loaded first)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from dotenv import load_dotenv
from pydantic import BaseModel, Field

DEFAULT_AGENT_NAME = "parley"

JobExecutor = Literal["process", "thread"]


def load_env_files(root: Path | None = None) -> None:
    """Loads ``.env`` then ``.env.local``; variables already set in the environment win."""
    base = root or Path.cwd()
    for name in (".env.local", ".env"):
        load_dotenv(base / name, override=False)


def env_value(name: str) -> str | None:
    """A non-empty environment variable, or None: an empty key counts as missing."""
    value = os.environ.get(name, "").strip()
    return value or None


class WorkerSettings(BaseModel):
    agent_name: str = Field(description="LIVEKIT_AGENT_NAME: explicit-dispatch name.")
    http_port: int = Field(description="PARLEY_HTTP_PORT: health port.")
    metrics_port: int = Field(description="PARLEY_METRICS_PORT: Prometheus `/metrics` port.")
    load_threshold: float | None = Field(
        description="PARLEY_LOAD_THRESHOLD: load (agent/load.py) at which the "
        "worker takes no new rooms; `inf` disables; unset: livekit-agents' default (0.7 in "
        "`start`, none in `dev`)."
    )
    idle_processes: int | None = Field(description="PARLEY_IDLE_PROCESSES: warm job processes.")
    max_rooms: int | None = Field(
        description="PARLEY_MAX_ROOMS: rooms at which the worker's load reads 1.0 (its load "
        "is the larger of its own CPU share and its rooms against this); unset: CPU only.",
        gt=0,
    )
    rescue_after_s: float = Field(
        description="PARLEY_RESCUE_AFTER_S: a room whose Parley agent vanished (its worker or "
        "job process killed) while people stay is dispatched again after this long; `0` "
        "turns it off (default 10)."
    )
    job_executor: JobExecutor = Field(
        description="PARLEY_JOB_EXECUTOR: `process` (default: each room in its own process) or "
        "`thread` (rooms as threads of one process: models and imports loaded once, but a "
        "native crash or a stuck thread reaches every room of the worker)."
    )
    default_config: str | None = Field(description="PARLEY_DEFAULT_CONFIG: room-config JSON.")
    config_file: Path | None = Field(description="PARLEY_CONFIG_FILE: room-config JSON file.")
    data_dir: Path = Field(
        description="PARLEY_DATA_DIR: meeting transcripts and notes, session reports "
        "(default ~/.local/share/parley)."
    )
    retention_days: float = Field(
        description="PARLEY_RETENTION_DAYS: transcripts, notes and reports older than this are "
        "deleted (default 30)."
    )
    models_dir: Path = Field(
        description="PARLEY_MODELS_DIR: where the offline models a room config names by "
        "`model` must lie (default `$PARLEY_DATA_DIR/models`)."
    )
    webhook_secret: str | None = Field(
        description="PARLEY_WEBHOOK_SECRET: signs every webhook request (HMAC-SHA256); a room "
        "config that names a webhook is refused without it."
    )
    webhook_allow_hosts: frozenset[str] = Field(
        description="PARLEY_WEBHOOK_ALLOW_HOSTS: comma-separated host names a webhook may reach "
        "over plain http or at a private address (a receiver inside the deployment)."
    )
    error_grace_s: float = Field(
        description="PARLEY_ERROR_GRACE_S: seconds a failed room's "
        "agent stays so clients can read `parley.error`."
    )
    drain_timeout_s: int = Field(
        description="PARLEY_DRAIN_TIMEOUT_S: after SIGTERM, seconds the worker waits for its "
        "rooms to end before it ends them itself (default 1800)."
    )

    @classmethod
    def from_env(cls) -> WorkerSettings:
        idle = env_value("PARLEY_IDLE_PROCESSES")
        max_rooms = env_value("PARLEY_MAX_ROOMS")
        threshold = env_value("PARLEY_LOAD_THRESHOLD")
        config_file = env_value("PARLEY_CONFIG_FILE")
        data_dir = Path(
            env_value("PARLEY_DATA_DIR") or Path.home() / ".local/share/parley"
        ).expanduser()
        return cls(
            agent_name=env_value("LIVEKIT_AGENT_NAME") or DEFAULT_AGENT_NAME,
            http_port=int(env_value("PARLEY_HTTP_PORT") or 8081),
            metrics_port=int(env_value("PARLEY_METRICS_PORT") or 9464),
            load_threshold=float(threshold) if threshold else None,
            idle_processes=int(idle) if idle else None,
            max_rooms=int(max_rooms) if max_rooms else None,
            rescue_after_s=float(env_value("PARLEY_RESCUE_AFTER_S") or 10.0),
            job_executor=env_value("PARLEY_JOB_EXECUTOR") or "process",
            default_config=env_value("PARLEY_DEFAULT_CONFIG"),
            config_file=Path(config_file) if config_file else None,
            data_dir=data_dir,
            retention_days=float(env_value("PARLEY_RETENTION_DAYS") or 30),
            models_dir=Path(env_value("PARLEY_MODELS_DIR") or data_dir / "models").expanduser(),
            webhook_secret=env_value("PARLEY_WEBHOOK_SECRET"),
            webhook_allow_hosts=frozenset(
                h.strip().lower()
                for h in (env_value("PARLEY_WEBHOOK_ALLOW_HOSTS") or "").split(",")
                if h.strip()
            ),
            error_grace_s=float(env_value("PARLEY_ERROR_GRACE_S") or 5.0),
            drain_timeout_s=int(env_value("PARLEY_DRAIN_TIMEOUT_S") or 1800),
        )
