"""Which provider endpoint each pipeline stage talks to, the key it needs, and checks of both.

Checked before the session starts so a room learns "set OPENAI_API_KEY" or "cannot reach
127.0.0.1:9" as a ``parley.error`` instead of a silent agent.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from .config.errors import ErrorCode, ParleyError
from .config.models import (
    CascadePipeline,
    CloudProvider,
    LLMChoice,
    RealtimePipeline,
    RoomConfig,
    STTChoice,
    TTSChoice,
    in_order,
)
from .settings import env_value

logger = logging.getLogger("parley")

Stage = Literal["realtime", "stt", "llm", "tts"]


@dataclass(frozen=True)
class Endpoint:
    label: str
    key_env: str
    """Env var holding the credential."""
    url_env: str | None
    """Env var that redirects the endpoint (gateways, proxies, local fakes)."""
    default_url: str

    def url(self) -> str:
        return (env_value(self.url_env) if self.url_env else None) or self.default_url

    def host_port(self) -> tuple[str, int]:
        parts = urlsplit(self.url())
        default_port = 443 if parts.scheme in ("https", "wss") else 80
        return parts.hostname or "", parts.port or default_port


_OPENAI = Endpoint("OpenAI API", "OPENAI_API_KEY", "OPENAI_BASE_URL", "https://api.openai.com/v1")
_GEMINI = Endpoint(
    "Gemini API",
    "GOOGLE_API_KEY",
    "GOOGLE_GEMINI_BASE_URL",
    "https://generativelanguage.googleapis.com",
)
# Google Cloud Speech and Text-to-Speech use service-account credentials, not an API key.
_GOOGLE_STT = Endpoint(
    "Google Cloud Speech-to-Text",
    "GOOGLE_APPLICATION_CREDENTIALS",
    None,
    "https://speech.googleapis.com",
)
_GOOGLE_TTS = Endpoint(
    "Google Cloud Text-to-Speech",
    "GOOGLE_APPLICATION_CREDENTIALS",
    None,
    "https://texttospeech.googleapis.com",
)

_ENDPOINTS: dict[tuple[CloudProvider, Stage], Endpoint] = {
    ("openai", "realtime"): _OPENAI,
    ("openai", "stt"): _OPENAI,
    ("openai", "llm"): _OPENAI,
    ("openai", "tts"): _OPENAI,
    ("google", "realtime"): _GEMINI,
    ("google", "llm"): _GEMINI,
    ("google", "stt"): _GOOGLE_STT,
    ("google", "tts"): _GOOGLE_TTS,
}


@dataclass(frozen=True)
class Use:
    """One stage of the pipeline and the endpoint it uses."""

    field: str
    endpoint: Endpoint


Chain = tuple[Stage, list[tuple[STTChoice | LLMChoice | TTSChoice, str]]]


def _chains(room: RoomConfig | RealtimePipeline | CascadePipeline) -> list[Chain]:
    """Each cascade stage the room builds and its fallbacks, with their fields: the
    pipeline's, and a meeting's own STT and notes model when it sets them."""
    pipeline = room.pipeline if isinstance(room, RoomConfig) else room
    chains: list[Chain] = []
    if isinstance(pipeline, CascadePipeline):
        chains += [
            ("stt", list(in_order(pipeline.stt, pipeline.stt.fallback, "pipeline.stt"))),
            ("llm", list(in_order(pipeline.llm, pipeline.llm.fallback, "pipeline.llm"))),
            ("tts", list(in_order(pipeline.tts, pipeline.tts.fallback, "pipeline.tts"))),
        ]
    if isinstance(room, RoomConfig) and room.mode == "meeting":
        stt, notes = room.meeting.stt, room.meeting.notes_llm
        if stt is not None:
            chains.append(("stt", list(in_order(stt, stt.fallback, "meeting.stt"))))
        if notes is not None:
            chains.append(("llm", list(in_order(notes, notes.fallback, "meeting.notes_llm"))))
    return chains


def uses(
    room: RoomConfig | RealtimePipeline | CascadePipeline, *, probed: bool = False
) -> list[Use]:
    """The remote endpoints a room (or a pipeline alone) needs, fallbacks' too; ``offline``
    stages need none. ``probed``: only those worth a reachability check before the room
    starts, so not a stage with fallbacks (an unreachable provider there is what they are
    for)."""
    translator = room.translator if isinstance(room, RoomConfig) else None
    if translator is not None:
        # The room's pipeline is not used; a model on the worker needs no endpoint.
        if translator == "offline":
            return []
        return [Use("interpreter.backend", _ENDPOINTS[(translator, "realtime")])]
    pipeline = room.pipeline if isinstance(room, RoomConfig) else room
    realtime = (
        [Use("pipeline.provider", _ENDPOINTS[(pipeline.provider, "realtime")])]
        if isinstance(pipeline, RealtimePipeline)
        else []
    )
    return realtime + [
        Use(f"{at}.provider", _ENDPOINTS[(c.provider, stage)])
        for stage, chain in _chains(room)
        if not (probed and len(chain) > 1)
        for c, at in chain
        if c.provider != "offline"
    ]


def require_credentials(room: RoomConfig | RealtimePipeline | CascadePipeline) -> None:
    for use in uses(room):
        if env_value(use.endpoint.key_env) is None:
            raise ParleyError(
                ErrorCode.MISSING_CREDENTIALS,
                use.field,
                f"{use.field} uses the {use.endpoint.label}, but {use.endpoint.key_env} is not "
                f"set on the worker: set it (in the environment or .env) or choose another "
                "provider.",
            )


async def ensure_reachable(
    room: RoomConfig | RealtimePipeline | CascadePipeline, timeout: float = 3.0
) -> None:
    """TCP-connects to each distinct endpoint at once; the first failure is the room's error."""
    distinct = {use.endpoint.host_port(): use for use in uses(room, probed=True)}
    await asyncio.gather(*(_probe(use, addr, timeout) for addr, use in distinct.items()))


async def _probe(use: Use, addr: tuple[str, int], timeout: float) -> None:
    host, port = addr
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError) as e:
        if isinstance(e, TimeoutError):
            reason = "timed out"
        elif isinstance(e, ConnectionRefusedError):
            reason = "connection refused"
        else:  # an OSError's own text may carry the address; its strerror does not
            reason = e.strerror or "connection failed"
        # The address is the worker's business (a gateway, an internal host): the room learns
        # which setting to check, the worker log where it points.
        logger.warning("cannot reach the %s at %s:%d: %s", use.endpoint.label, host, port, reason)
        hint = f"check {use.endpoint.url_env} and" if use.endpoint.url_env else "check"
        raise ParleyError(
            ErrorCode.PROVIDER_UNREACHABLE,
            use.field,
            f"cannot reach the {use.endpoint.label} ({reason}): {hint} the worker's network; "
            "the worker log names the address.",
        ) from None
    writer.close()
