"""Each pipeline builds the real plugin objects; credentials and reachability are checked."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from livekit.agents import llm, stt, tts, vad
from livekit.plugins import google, openai, silero

from agent.config import ErrorCode, Layer, ParleyError, RoomConfig, resolve
from agent.config.defaults import builtin_default
from agent.config.models import (
    CascadePipeline,
    LLMStage,
    RealtimePipeline,
    STTStage,
    TTSStage,
    TurnTaking,
)
from agent.modes.interpreter import seamless_backend
from agent.pipeline import stalls
from agent.pipeline.build import build_session, turn_handling
from agent.pipeline.endofturn import ParleyTurnDetector
from agent.preflight import ensure_reachable, require_credentials, uses
from stack.process import free_port


@pytest.fixture(scope="module")
def vad_model() -> vad.VAD:
    return silero.VAD.load()


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("GOOGLE_API_KEY", "g-test")
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)


async def test_openai_realtime(vad_model: vad.VAD) -> None:
    pipeline = RealtimePipeline(kind="realtime", provider="openai", voice="cedar")
    session = await build_session(RoomConfig(pipeline=pipeline), vad_model)
    assert isinstance(session.llm, openai.realtime.RealtimeModel)
    assert session.llm.model == "gpt-realtime"
    assert session.stt is None and session.tts is None


async def test_google_realtime(vad_model: vad.VAD) -> None:
    pipeline = RealtimePipeline(kind="realtime", provider="google", model="gemini-live-2.5")
    session = await build_session(RoomConfig(pipeline=pipeline), vad_model)
    assert isinstance(session.llm, google.realtime.RealtimeModel)
    assert session.llm.model == "gemini-live-2.5"


@pytest.mark.parametrize("provider", ["openai", "google"])
async def test_a_realtime_room_can_end_turns_in_the_worker(
    vad_model: vad.VAD, provider: str
) -> None:
    pipeline = RealtimePipeline(kind="realtime", provider=provider)
    turns = TurnTaking(preset="conversation", detection="local")
    session = await build_session(RoomConfig(pipeline=pipeline, turn_taking=turns), vad_model)
    assert isinstance(session.turn_detection, ParleyTurnDetector)
    assert session.vad is not None
    model = session.llm
    assert isinstance(model, llm.RealtimeModel)
    if provider == "openai":  # the plugin hands its turn detection to the session
        assert model.capabilities.turn_detection and model.capabilities.can_disable_turn_detection
    else:  # Gemini is built without its automatic activity detection
        assert not model.capabilities.turn_detection


async def test_a_realtime_room_leaves_turns_to_the_provider_by_default(
    vad_model: vad.VAD,
) -> None:
    pipeline = RealtimePipeline(kind="realtime", provider="google")
    session = await build_session(
        RoomConfig(pipeline=pipeline, turn_taking=TurnTaking(preset="conversation")), vad_model
    )
    assert session.turn_detection == "realtime_llm" and session.vad is None
    assert isinstance(session.llm, llm.RealtimeModel) and session.llm.capabilities.turn_detection


async def test_openai_cascade(vad_model: vad.VAD) -> None:
    pipeline = CascadePipeline(
        kind="cascade",
        llm=LLMStage(model="gpt-4.1-mini", temperature=0.3),
        tts=TTSStage(voice="nova"),
    )
    session = await build_session(RoomConfig(pipeline=pipeline, language="es"), vad_model)
    # the plugin, watched for a stream gone quiet
    assert isinstance(session.stt, stalls.StallWatch) and isinstance(session.stt.inner, openai.STT)
    assert session.stt.label == session.stt.inner.label
    assert isinstance(session.llm, openai.LLM) and session.llm.model == "gpt-4.1-mini"
    assert isinstance(session.tts, openai.TTS)
    assert session.vad is vad_model
    await session.llm.aclose()  # its prewarm connection


async def test_google_llm_in_a_cascade(vad_model: vad.VAD) -> None:
    pipeline = CascadePipeline(kind="cascade", llm=LLMStage(provider="google"))
    session = await build_session(RoomConfig(pipeline=pipeline), vad_model)
    assert isinstance(session.llm, google.LLM)
    await session.llm.aclose()


async def test_a_stage_with_fallbacks_is_livekit_agents_fallback_adapter(
    vad_model: vad.VAD,
) -> None:
    """Each stage and its fallbacks, in order; a stage without them is the plugin itself."""
    pipeline = CascadePipeline.model_validate(
        {
            "kind": "cascade",
            "stt": {"fallback": [{"model": "whisper-1"}]},
            "llm": {"model": "gpt-4.1-mini", "fallback": [{"provider": "google"}]},
            "tts": {"voice": "nova", "fallback": [{"provider": "google"}]},
        }
    )
    session = await build_session(RoomConfig(pipeline=pipeline), vad_model)
    # Non-streaming, so whole utterances go to the adapter: a failed one reaches the next STT.
    assert isinstance(session.stt, stt.StreamAdapter)
    adapter = session.stt.wrapped_stt
    assert isinstance(adapter, stt.FallbackAdapter)
    assert [s.model for s in adapter._stt_instances] == [
        "gpt-4o-mini-transcribe",
        "whisper-1",
    ]
    assert isinstance(session.llm, llm.FallbackAdapter)
    assert [type(m) for m in session.llm._llm_instances] == [openai.LLM, google.LLM]
    assert session.llm.model == "gpt-4.1-mini"  # what serves while the first is up
    assert isinstance(session.tts, tts.FallbackAdapter)
    assert [type(t) for t in session.tts._tts_instances] == [stalls.OpenAITTS, google.TTS]
    # The cloud stages are bound by Parley; livekit-agents' own bound is longer.
    assert session.conn_options.llm_conn_options.timeout == stalls.STALL_S < 10
    for model in session.llm._llm_instances:
        await model.aclose()  # their prewarm connections
    await session.llm.aclose()


def test_fallbacks_need_their_keys_and_are_not_probed_before_the_room(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fallback's provider needs its key like the stage's own; only a stage without
    fallbacks is probed before the room starts (an unreachable provider is what they are
    for)."""
    pipeline = CascadePipeline.model_validate(
        {
            "kind": "cascade",
            "stt": {"provider": "offline"},
            "llm": {"fallback": [{"provider": "offline"}, {"provider": "google"}]},
            "tts": {"provider": "offline"},
        }
    )
    assert [u.field for u in uses(pipeline)] == [
        "pipeline.llm.provider",
        "pipeline.llm.fallback.1.provider",
    ]
    assert uses(pipeline, probed=True) == []
    monkeypatch.setenv("GOOGLE_API_KEY", "")
    with pytest.raises(ParleyError) as caught:
        require_credentials(pipeline)
    assert caught.value.report.field == "pipeline.llm.fallback.1.provider"


def test_a_meetings_own_stages_need_their_keys_and_name_their_fields(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    room = RoomConfig.model_validate(
        {
            "mode": "meeting",
            "pipeline": {"kind": "realtime", "provider": "google"},
            "meeting": {"stt": {"provider": "openai"}, "notes_llm": {"provider": "offline"}},
        }
    )
    assert [u.field for u in uses(room)] == ["pipeline.provider", "meeting.stt.provider"]
    monkeypatch.setenv("OPENAI_API_KEY", "")
    with pytest.raises(ParleyError) as caught:
        require_credentials(room)
    assert caught.value.report.field == "meeting.stt.provider"
    # Another mode does not build them.
    require_credentials(room.model_copy(update={"mode": "assistant"}))


def test_an_interpreters_translation_backend_needs_the_openai_key_not_the_pipelines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    room = RoomConfig.model_validate(
        {
            "mode": "interpreter",
            "pipeline": {"kind": "realtime", "provider": "google"},
            "interpreter": {"backend": "openai-translation"},
        }
    )
    assert [u.field for u in uses(room)] == ["interpreter.backend"]
    monkeypatch.setenv("GOOGLE_API_KEY", "")
    require_credentials(room)  # the unused pipeline's key is not asked for
    monkeypatch.setenv("OPENAI_API_KEY", "")
    with pytest.raises(ParleyError) as caught:
        require_credentials(room)
    assert caught.value.report.field == "interpreter.backend"
    assert "OPENAI_API_KEY" in caught.value.report.message


def test_seamless_needs_its_licence_acknowledged_and_no_endpoint() -> None:
    with pytest.raises(ParleyError) as refused:
        resolve(
            [Layer("room metadata", '{"mode":"interpreter","interpreter":{"backend":"seamless"}}')]
        )
    report = refused.value.report
    assert report.code == ErrorCode.INVALID_VALUE and report.field == "interpreter.accept_license"
    assert "CC-BY-NC-4.0" in report.message and "non-commercial" in report.message
    room = RoomConfig.model_validate(
        {
            "mode": "interpreter",
            "interpreter": {"backend": "seamless", "accept_license": "CC-BY-NC-4.0"},
        }
    )
    assert room.translator == "offline" and uses(room) == []


def test_a_missing_seamless_model_is_named_without_the_workers_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARLEY_MODELS_DIR", str(tmp_path))
    with pytest.raises(ParleyError) as refused:
        seamless_backend("my-seamless")
    report = refused.value.report
    assert report.code == ErrorCode.MODEL_UNAVAILABLE and report.field == "interpreter.model"
    assert "my-seamless" in report.message and str(tmp_path) not in report.message


def test_turn_handling_passes_only_what_the_room_set() -> None:
    assert turn_handling(TurnTaking(), "en") == {}
    options = turn_handling(
        TurnTaking.model_validate(
            {"endpointing": {"min_delay": 0.8}, "interruption": {"min_words": 2}}
        ),
        "en",
    )
    assert options == {"endpointing": {"min_delay": 0.8}, "interruption": {"min_words": 2}}
    early = turn_handling(TurnTaking(preemptive="llm-tts"), "en")
    assert early == {"preemptive_generation": {"enabled": True, "preemptive_tts": True}}


@pytest.mark.parametrize(
    ("pipeline", "field", "env"),
    [
        (
            RealtimePipeline(kind="realtime", provider="openai"),
            "pipeline.provider",
            "OPENAI_API_KEY",
        ),
        (
            RealtimePipeline(kind="realtime", provider="google"),
            "pipeline.provider",
            "GOOGLE_API_KEY",
        ),
        (
            CascadePipeline(kind="cascade", stt=STTStage(provider="google")),
            "pipeline.stt.provider",
            "GOOGLE_APPLICATION_CREDENTIALS",
        ),
        (
            CascadePipeline(kind="cascade", llm=LLMStage(provider="google")),
            "pipeline.llm.provider",
            "GOOGLE_API_KEY",
        ),
    ],
)
def test_missing_key_names_the_env_var(
    pipeline: RealtimePipeline | CascadePipeline,
    field: str,
    env: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(env, "")
    with pytest.raises(ParleyError) as info:
        require_credentials(pipeline)
    report = info.value.report
    assert (report.code, report.field) == (ErrorCode.MISSING_CREDENTIALS, field)
    assert env in report.message


def test_present_keys_pass() -> None:
    require_credentials(RealtimePipeline(kind="realtime", provider="openai"))


async def test_unreachable_provider_names_the_url_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    with pytest.raises(ParleyError) as info:
        await ensure_reachable(RealtimePipeline(kind="realtime", provider="openai"), timeout=2)
    report = info.value.report
    assert report.code == ErrorCode.PROVIDER_UNREACHABLE
    assert "OPENAI_BASE_URL" in report.message


async def test_reachable_provider_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1")
    async with server:
        await ensure_reachable(RealtimePipeline(kind="realtime", provider="openai"))


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({}, "offline cascade"),
        ({"OPENAI_API_KEY": "sk"}, "openai realtime"),
        ({"GOOGLE_API_KEY": "g"}, "google realtime"),
        ({"OPENAI_API_KEY": "sk", "GOOGLE_API_KEY": "g"}, "openai realtime"),
    ],
)
def test_default_pipeline_follows_the_keys_present(
    keys: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OPENAI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in keys.items():
        monkeypatch.setenv(name, value)
    p = resolve([builtin_default()]).pipeline
    if isinstance(p, CascadePipeline):
        described = f"{p.stt.provider} cascade"
        assert p.llm.provider == p.tts.provider == "offline"
    else:
        described = f"{p.provider} realtime"
    assert described == expected


def test_offline_stages_need_no_key_but_cloud_ones_still_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    offline = STTStage(provider="offline")
    require_credentials(
        CascadePipeline(
            kind="cascade",
            stt=offline,
            llm=LLMStage(provider="offline"),
            tts=TTSStage(provider="offline"),
        )
    )
    mixed = CascadePipeline(kind="cascade", stt=offline, tts=TTSStage(provider="offline"))
    with pytest.raises(ParleyError) as caught:
        require_credentials(mixed)
    assert caught.value.report.field == "pipeline.llm.provider"


def test_personal_data_extras_never_reach_the_log(caplog: pytest.LogCaptureFixture) -> None:
    from agent.privacy import drop_personal_data

    drop_personal_data()
    with caplog.at_level(logging.WARNING, logger="livekit.agents"):
        logging.getLogger("livekit.agents").warning(
            "skipping user input", extra={"lk.pii.user_input": "my date of birth is", "n": 1}
        )
    record = caplog.records[-1]
    assert not hasattr(record, "lk.pii.user_input") and record.__dict__["n"] == 1
