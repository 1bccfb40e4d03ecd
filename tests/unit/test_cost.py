"""Dollars from usage: the brief's OpenAI Realtime prices, Gemini Live's tokens per second of
audio, cascade stages per minute / per token, and price overrides in the room config."""

from __future__ import annotations

import pytest
from livekit.agents.metrics.usage import (
    LLMModelUsage,
    ModelUsage,
    STTModelUsage,
    TTSModelUsage,
)
from livekit.plugins.interpreter import TranslationUsage

from agent.config import Layer, RoomConfig, resolve
from agent.reports.cost import session_cost


def config(text: str) -> RoomConfig:
    return resolve([Layer("room metadata", text)])


def test_openai_realtime_prices_audio_cached_and_text() -> None:
    # 60 s of user audio (1 token / 100 ms), 30 s of agent audio (1 token / 50 ms).
    usage = LLMModelUsage(
        provider="api.openai.com", model="gpt-realtime",
        input_tokens=700, input_audio_tokens=600, input_cached_audio_tokens=100,
        input_text_tokens=100, output_tokens=620, output_audio_tokens=600, output_text_tokens=20,
    )  # fmt: skip
    cost = session_cost(
        [usage], config('{"pipeline":{"kind":"realtime","provider":"openai"}}'), duration_s=120
    )
    expected = (500 * 32 + 100 * 0.40 + 600 * 64 + 100 * 4 + 20 * 16) / 1e6
    assert cost.total_dollars == pytest.approx(expected)
    assert cost.per_minute_dollars == pytest.approx(expected / 2)
    assert cost.lines[0].quantity == {
        "audio_in": 500, "audio_in_cached": 100, "audio_out": 600, "text_in": 100, "text_out": 20,
    }  # fmt: skip


def test_gemini_live_counts_tokens_per_second_of_audio() -> None:
    # 10 s of user audio at 32 tokens/s, 4 s of agent audio at 25 tokens/s.
    usage = LLMModelUsage(
        provider="Gemini", model="gemini-live", input_tokens=320, input_audio_tokens=320,
        output_tokens=100, output_audio_tokens=100,
    )  # fmt: skip
    text = '{"pipeline":{"kind":"realtime","provider":"google"}}'
    cost = session_cost([usage], config(text), duration_s=60)
    assert cost.total_dollars == pytest.approx((320 * 3.0 + 100 * 12.0) / 1e6)


def test_cascade_stages_per_minute_and_token_and_offline_is_free() -> None:
    usage: list[ModelUsage] = [
        STTModelUsage(provider="api.openai.com", model="gpt-4o-transcribe", audio_duration=60),
        LLMModelUsage(provider="api.openai.com", model="gpt-4.1", input_tokens=1000,
                      input_cached_tokens=400, output_tokens=100),
        TTSModelUsage(provider="api.openai.com", model="gpt-4o-mini-tts", audio_duration=30,
                      characters_count=400),
    ]  # fmt: skip
    cascade = (
        '{"pipeline":{"kind":"cascade","stt":{"provider":"openai"},"llm":{"provider":"openai"},'
        '"tts":{"provider":"openai"}}}'
    )
    cost = session_cost(usage, config(cascade), duration_s=60)
    by_stage = {line.stage: line.dollars for line in cost.lines}
    assert by_stage["stt"] == pytest.approx(0.006)
    assert by_stage["llm"] == pytest.approx((600 * 2 + 400 * 0.5 + 100 * 8) / 1e6)
    assert by_stage["tts"] == pytest.approx(0.0075)
    offline = cascade.replace('"openai"', '"offline"')
    assert session_cost(usage, config(offline), duration_s=60).total_dollars == 0


def test_a_fallback_that_served_is_priced_as_its_own_provider() -> None:
    """An LLM stage on OpenAI with an offline fallback: what the offline model answered is
    free, what OpenAI answered is billed; each line names who served."""
    usage: list[ModelUsage] = [
        LLMModelUsage(provider="api.openai.com", model="gpt-4.1", input_tokens=1000),
        LLMModelUsage(provider="offline", model="SmolLM2-135M-Instruct", input_tokens=1000),
        LLMModelUsage(provider="Vertex AI", model="gemini-2.5-flash", input_tokens=1000),
    ]
    cascade = (
        '{"pipeline":{"kind":"cascade","llm":{"provider":"openai",'
        '"fallback":[{"provider":"offline"},{"provider":"google"}]}}}'
    )
    lines = session_cost(usage, config(cascade), duration_s=60).lines
    assert [line.provider for line in lines] == ["openai", "offline", "google"]
    assert lines[0].dollars == pytest.approx(1000 * 2 / 1e6)
    assert lines[1].dollars == 0
    assert lines[2].dollars > 0


def test_a_room_overrides_one_price_and_keeps_the_rest() -> None:
    c = config('{"prices":{"openai":{"realtime":{"audio_out":80}}}}')
    assert c.prices.openai.realtime.audio_out == 80
    assert c.prices.openai.realtime.audio_in == 32
    assert c.prices.google.stt_per_minute == 0.016


def test_realtime_translation_is_priced_per_minute_heard() -> None:
    room = config('{"mode":"interpreter","interpreter":{"backend":"openai-translation"}}')
    heard = TranslationUsage(provider="openai", model="gpt-realtime-translate", audio_duration=90)
    cost = session_cost([heard], room, duration_s=60)
    (line,) = cost.lines
    assert line.stage == "translation" and line.quantity == {"minutes": 1.5}
    assert cost.total_dollars == pytest.approx(1.5 * 0.034)


def test_a_translation_model_on_the_worker_costs_nothing_but_its_minutes_show() -> None:
    room = config(
        '{"mode":"interpreter","interpreter":{"backend":"seamless",'
        '"accept_license":"CC-BY-NC-4.0"}}'
    )
    heard = TranslationUsage(provider="offline", model="seamless-m4t-v2-large", audio_duration=90)
    (line,) = session_cost([heard], room, duration_s=60).lines
    assert line.provider == "offline" and line.quantity == {"minutes": 1.5}
    assert line.dollars == 0
