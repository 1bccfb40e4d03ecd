"""Dollars from the usage livekit-agents counts per model, priced by the room's price table.

Each usage entry belongs to one pipeline stage: a session has one LLM (a realtime model or
the cascade's LLM), one STT and one TTS, so the stage, not the provider string a plugin
reports (OpenAI's is the base URL's host), picks the price. A stage with fallbacks has
several providers: the plugin's string then tells which of them served.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from livekit.agents.metrics.usage import LLMModelUsage, ModelUsage, STTModelUsage, TTSModelUsage
from livekit.plugins.interpreter import TranslationUsage
from pydantic import BaseModel

from ..config.models import (
    CascadePipeline,
    LLMChoice,
    Provider,
    ProviderPrices,
    RoomConfig,
    STTChoice,
    TokenPrices,
    TTSChoice,
)

M = 1_000_000
Usage = ModelUsage | TranslationUsage
"""What livekit-agents counts per model, and what a translation backend counts itself."""
Stage = Literal["realtime", "llm", "stt", "tts", "translation"]


class CostLine(BaseModel):
    stage: Stage
    provider: str
    model: str
    quantity: dict[str, float]
    """What was billed: tokens by kind, minutes of audio, characters."""
    dollars: float


class Cost(BaseModel):
    lines: list[CostLine]
    total_dollars: float
    per_minute_dollars: float | None
    """Total over the session's wall-clock minutes."""


def _tokens(u: LLMModelUsage, p: TokenPrices, realtime: bool) -> tuple[dict[str, float], float]:
    audio_in = u.input_audio_tokens - u.input_cached_audio_tokens if realtime else 0
    # Providers that do not split by modality report only the totals: count them as text.
    text_total_in = u.input_text_tokens or (u.input_tokens - u.input_audio_tokens)
    text_cached_in = u.input_cached_text_tokens or (u.input_cached_tokens if not realtime else 0)
    text_out = u.output_text_tokens or (u.output_tokens - u.output_audio_tokens)
    q = {
        "audio_in": float(audio_in),
        "audio_in_cached": float(u.input_cached_audio_tokens if realtime else 0),
        "audio_out": float(u.output_audio_tokens if realtime else 0),
        "text_in": float(max(0, text_total_in - text_cached_in)),
        "text_in_cached": float(text_cached_in),
        "text_out": float(text_out),
    }
    return {k: v for k, v in q.items() if v}, sum(q[k] * getattr(p, k) for k in q) / M


def session_cost(usage: Sequence[Usage], config: RoomConfig, duration_s: float) -> Cost:
    p = config.pipeline
    cascade = isinstance(p, CascadePipeline)
    lines: list[CostLine] = []
    for u in usage:
        if isinstance(u, LLMModelUsage):
            provider = (
                _served_by(u.provider, [p.llm, *p.llm.fallback])
                if isinstance(p, CascadePipeline)
                else p.provider
            )
            prices = _prices(config, provider)
            stage: Stage = "llm" if cascade else "realtime"
            table = prices.llm if cascade else prices.realtime
            quantity, dollars = _tokens(u, table, realtime=not cascade)
        elif isinstance(u, STTModelUsage) and isinstance(p, CascadePipeline):
            stage, provider = "stt", _served_by(u.provider, [p.stt, *p.stt.fallback])
            minutes = u.audio_duration / 60
            quantity, dollars = (
                {"minutes": minutes},
                minutes * _prices(config, provider).stt_per_minute,
            )
        elif isinstance(u, TTSModelUsage) and isinstance(p, CascadePipeline):
            stage, provider = "tts", _served_by(u.provider, [p.tts, *p.tts.fallback])
            prices = _prices(config, provider)
            minutes = u.audio_duration / 60
            quantity = {"minutes": minutes, "characters": float(u.characters_count)}
            dollars = (
                minutes * prices.tts_per_minute
                + u.characters_count * prices.tts_per_million_chars / M
            )
        elif isinstance(u, TranslationUsage):
            stage, provider = "translation", _translated_by(u.provider)
            minutes = u.audio_duration / 60
            quantity = {"minutes": minutes}
            dollars = minutes * _prices(config, provider).translation_per_minute
        else:
            continue  # end-of-turn and interruption models run locally here
        lines.append(
            CostLine(
                stage=stage, provider=provider, model=u.model, quantity=quantity, dollars=dollars
            )
        )
    total = sum(line.dollars for line in lines)
    return Cost(
        lines=lines,
        total_dollars=total,
        per_minute_dollars=total / (duration_s / 60) if duration_s > 0 else None,
    )


def _served_by(label: str, chain: Sequence[STTChoice | LLMChoice | TTSChoice]) -> Provider:
    """Which of a stage's providers a usage entry came from, by the plugin's own label
    (``offline``, OpenAI's host, ``Vertex AI`` or ``Google Cloud Platform``)."""
    providers = [c.provider for c in chain]
    if len(set(providers)) == 1:
        return providers[0]
    if label == "offline" and "offline" in providers:
        return "offline"
    google = any(word in label.lower() for word in ("google", "vertex", "gemini"))
    if "google" in providers and (google or "openai" not in providers):
        return "google"
    return "openai" if "openai" in providers else providers[0]


def _translated_by(label: str) -> Provider:
    """A translation backend's own ``provider``: ``offline`` for a model on the worker."""
    own: dict[str, Provider] = {"google": "google", "offline": "offline"}
    return own.get(label, "openai")


def _prices(config: RoomConfig, provider: str) -> ProviderPrices:
    if provider == "openai":
        return config.prices.openai
    if provider == "google":
        return config.prices.google
    return ProviderPrices()  # offline: the worker's own CPU
