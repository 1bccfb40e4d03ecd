"""The interpreter mode: Parley's room config → the livekit-plugins-interpreter plugin.

A pair the pipeline cannot interpret is reported as ``parley.error`` (code
``unsupported_language_pair``) as soon as the room's languages are known; the agent keeps
interpreting the pairs it can.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from livekit.agents import llm, metrics, stt, tts
from livekit.plugins import interpreter, offline
from livekit.plugins.interpreter import gemini_translation

from .. import protocol
from ..config.errors import ErrorCode, ErrorReport, ParleyError
from ..config.models import SEAMLESS_MODEL, CascadePipeline, RealtimePipeline, RoomConfig
from ..pipeline.build import llm_stage, realtime_model, stt_stage, tts_stage
from ..pipeline.offline import model_path
from ..pipeline.options import present
from ..reports.cost import Usage
from ..reports.publish import publish
from ..reports.session import SessionRecorder
from .context import RoomContext

logger = logging.getLogger("parley")
INTERIM_S = 0.5
"""Interims twice a second: each may complete a clause to translate while the speaker goes on."""
SPEED = 1.2
"""Interpreters speak faster than the speaker, or each translation ends later than the last."""
M = TypeVar("M", stt.STT[Any], tts.TTS[Any], llm.LLM[Any])
Backend = interpreter.CascadeBackend | interpreter.RealtimeBackend | interpreter.TranslationBackend
CAPTIONS = interpreter.CaptionAttributes(
    speaker=protocol.SPEAKER,
    source_language=protocol.SOURCE_LANGUAGE,
    target_language=protocol.TARGET_LANGUAGE,
)


def backend(
    config: RoomConfig,
    usage: metrics.ModelUsageCollector | None = None,
    on_retry: Callable[[str, str], None] | None = None,
) -> Backend:
    """``usage`` collects what every model the backend builds reports using (a translation
    backend counts its own: ``Backend.usage``); ``on_retry``
    hears (part, error type) of each failed attempt a model retried on its own, which no
    outage shows."""

    def metered(model: M, part: str) -> M:
        if usage is not None:
            model.on("metrics_collected", usage.collect)
        if on_retry is not None:

            def retried(ev: stt.STTError | tts.TTSError | llm.LLMError) -> None:
                if ev.recoverable:
                    on_retry(part, type(ev.error).__name__)

            model.on("error", retried)
        return model

    model = config.interpreter.model
    if config.interpreter.backend == "openai-translation":
        return interpreter.OpenAITranslationBackend(**present(model=model))
    if config.interpreter.backend == "gemini-translation":
        return gemini_translation.GeminiTranslationBackend(**present(model=model))
    if config.interpreter.backend == "seamless":
        return seamless_backend(model)
    p = config.pipeline
    if isinstance(p, RealtimePipeline):
        # Gemini Live takes the language it speaks as an option: the session's target.
        return interpreter.RealtimeBackend(
            lambda _source, target: realtime_model(
                p, config.model_copy(update={"language": target})
            ),
            on_metrics=usage.collect if usage is not None else None,
        )
    translator: interpreter.Translator = (
        offline.Translator()
        if p.llm.provider == "offline"  # a 135M chat model cannot translate; Apertium can
        else interpreter.LLMTranslator(metered(llm_stage(p.llm), "voice"))
    )
    voice = p.tts if p.tts.speed else p.tts.model_copy(update={"speed": SPEED})
    return interpreter.CascadeBackend(
        stt_for=lambda lang: metered(stt_stage(p.stt, lang, interim_interval=INTERIM_S), "stt"),
        tts_for=lambda lang: metered(tts_stage(voice, lang), "voice"),
        translator=translator,
    )


def seamless_backend(model: str | None) -> interpreter.TranslationBackend:
    field = "interpreter.model" if model else "interpreter.backend"
    try:
        # torch and transformers only where the worker was installed with the extra.
        from livekit.plugins.interpreter import seamless
    except ImportError as e:
        logger.warning("the seamless backend cannot be imported: %s", e)
        raise ParleyError(
            ErrorCode.MODEL_UNAVAILABLE,
            "interpreter.backend",
            "this worker has no SeamlessM4T v2: install it with the seamless extra "
            "(pip install 'parley[seamless]'), or choose another interpreter.backend.",
        ) from None
    path = model_path(model or SEAMLESS_MODEL)
    try:
        return seamless.SeamlessBackend(str(path))
    except seamless.ModelError as e:
        logger.warning("seamless model: %s", e)
        raise ParleyError(
            ErrorCode.MODEL_UNAVAILABLE,
            field,
            f"no SeamlessM4T v2 model named {model or SEAMLESS_MODEL} on this worker: put "
            "facebook/seamless-m4t-v2-large's files in that directory under "
            "PARLEY_MODELS_DIR, or name another interpreter.model.",
        ) from None


def unsupported_report(config: RoomConfig, source: str, target: str, reason: str) -> ErrorReport:
    p = config.pipeline
    offline_llm = isinstance(p, CascadePipeline) and p.llm.provider == "offline"
    alternatives = (
        "a cascade whose llm provider is openai or google translates any pair; the offline "
        "translator (Apertium) has the installed apertium-* pairs"
        if offline_llm
        else "a cascade with STT and TTS providers that serve both languages (openai does)"
    )
    return ErrorReport(
        code=ErrorCode.UNSUPPORTED_LANGUAGE_PAIR,
        field="pipeline.llm.provider" if offline_llm else "pipeline",
        message=f"cannot interpret {source} → {target} with this pipeline ({reason}); "
        f"backends that can: {alternatives}.",
    )


def refused_report(identity: str, reason: str) -> ErrorReport:
    """A participant's language the room cannot serve: the others go on."""
    field = f"participants.{identity}.attributes.{protocol.LANGUAGE}"
    return ErrorReport(
        code=ErrorCode.INVALID_VALUE,
        field=field,
        message=f"{field} is not served: {reason}; set a language tag the room already uses, "
        "or ask for a room with fewer languages.",
    )


async def run(room: RoomContext) -> None:
    """The agent stays for the pairs it can serve; each one it cannot is reported. The
    session report has what the models used, its cost, and each outage."""
    config = room.config
    usage = metrics.ModelUsageCollector()
    args = (config, usage, room.status.retried)
    # Seamless imports torch, for seconds: off the room's event loop, which keeps serving.
    local = config.translator == "offline"
    serving = await asyncio.to_thread(backend, *args) if local else backend(*args)

    def used() -> list[Usage]:
        own = serving.usage() if isinstance(serving, interpreter.TranslationBackend) else []
        return [*usage.flatten(), *own]

    recorder = SessionRecorder(
        None,
        room.room,
        config,
        job_id=room.job.job.id,
        reports_dir=room.settings.data_dir / "reports",
        file_stem=room.file_stem,
        usage=used,
    )

    async def report_on_shutdown() -> None:
        recorder.report.errors = list(room.status.errors)
        recorder.finish()

    room.job.add_shutdown_callback(report_on_shutdown)
    with room.options_of("pipeline"):
        interp = interpreter.Interpreter(
            room.room,
            serving,
            interpreter.InterpreterOptions(
                languages=dict(config.interpreter.languages),
                language_attribute=protocol.LANGUAGE,
                captions=CAPTIONS,
            ),
            on_unsupported=lambda s, t, why: room.report(unsupported_report(config, s, t, why)),
            on_refused=lambda who, why: room.report(refused_report(who, why)),
            on_outage=room.status.told,
        )

        def publish_lag() -> None:
            publish(room.room, protocol.INTERPRETER_LAG, interp.lag.summary())

        interp.lag.on_add = lambda _: publish_lag()
        interp.lag.on_drop = publish_lag
        await interp.start()
    room.job.add_shutdown_callback(interp.aclose)
