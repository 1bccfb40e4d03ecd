"""The worker's own layer of room config: built-in defaults, then a file, then an env var."""

from __future__ import annotations

import json

from ..settings import WorkerSettings, env_value
from .errors import ErrorCode, ParleyError
from .sources import Layer

OFFLINE_CASCADE: dict[str, object] = {
    "kind": "cascade",
    "stt": {"provider": "offline"},
    "llm": {"provider": "offline"},
    "tts": {"provider": "offline"},
}


def builtin_default() -> Layer:
    """A realtime assistant on whichever provider has a key (OpenAI when both), else the
    offline cascade, so a worker with no keys and no internet still answers."""
    openai, google = env_value("OPENAI_API_KEY"), env_value("GOOGLE_API_KEY")
    if not openai and not google:
        pipeline: dict[str, object] = OFFLINE_CASCADE
    else:
        pipeline = {"kind": "realtime", "provider": "openai" if openai else "google"}
    return Layer("built-in default", json.dumps({"pipeline": pipeline}))


def worker_layers(settings: WorkerSettings) -> list[Layer]:
    layers = [builtin_default()]
    if settings.config_file is not None:
        try:
            text = settings.config_file.read_text()
        except OSError as e:
            raise ParleyError(
                ErrorCode.INVALID_VALUE,
                "PARLEY_CONFIG_FILE",
                f"cannot read {settings.config_file} ({e.strerror}): fix the path or unset it.",
            ) from None
        layers.append(Layer(f"PARLEY_CONFIG_FILE ({settings.config_file})", text))
    layers.append(Layer("PARLEY_DEFAULT_CONFIG", settings.default_config))
    return layers
