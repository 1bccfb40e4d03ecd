"""Room config: the three documents of the spine issue, merging, and every bad-input case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.config import ErrorCode, Layer, ParleyError, RoomConfig, resolve
from agent.config.defaults import worker_layers
from agent.config.models import CascadePipeline, RealtimePipeline
from agent.config.schema import field_table, json_schema
from agent.config.sources import merge
from agent.settings import WorkerSettings

ROOT = Path(__file__).resolve().parents[2]

OPENAI_REALTIME = '{"mode":"assistant","pipeline":{"kind":"realtime","provider":"openai"}}'
GOOGLE_REALTIME = '{"mode":"assistant","pipeline":{"kind":"realtime","provider":"google"}}'
OPENAI_CASCADE = (
    '{"mode":"assistant","pipeline":{"kind":"cascade","stt":{"provider":"openai"},'
    '"llm":{"provider":"openai"},"tts":{"provider":"openai"}}}'
)


def one(text: str | None, name: str = "dispatch metadata") -> RoomConfig:
    return resolve([Layer(name, text)])


def error_of(*texts: str) -> ParleyError:
    with pytest.raises(ParleyError) as info:
        resolve([Layer(f"layer {i}", t) for i, t in enumerate(texts)])
    return info.value


def test_the_three_documents_are_accepted_as_written() -> None:
    openai_rt, google_rt, cascade = one(OPENAI_REALTIME), one(GOOGLE_REALTIME), one(OPENAI_CASCADE)
    assert openai_rt.pipeline == RealtimePipeline(kind="realtime", provider="openai")
    assert isinstance(google_rt.pipeline, RealtimePipeline)
    assert google_rt.pipeline.provider == "google"
    assert isinstance(cascade.pipeline, CascadePipeline)
    assert (cascade.pipeline.stt.provider, cascade.pipeline.tts.provider) == ("openai", "openai")
    assert openai_rt.version == 1 and openai_rt.language == "en"


def test_empty_sources_give_the_default_assistant() -> None:
    config = resolve([Layer("room metadata", ""), Layer("dispatch metadata", None)])
    assert config.mode == "assistant"
    assert isinstance(config.pipeline, RealtimePipeline)


def test_later_layers_win_and_nested_objects_merge() -> None:
    config = resolve(
        [
            Layer("defaults", '{"language": "es", "pipeline": {"kind": "cascade"}}'),
            Layer("room", '{"pipeline": {"kind": "cascade", "tts": {"voice": "nova"}}}'),
            Layer("dispatch", '{"pipeline": {"kind": "cascade", "llm": {"temperature": 0.2}}}'),
        ]
    )
    assert config.language == "es"
    assert isinstance(config.pipeline, CascadePipeline)
    assert config.pipeline.tts.voice == "nova" and config.pipeline.llm.temperature == 0.2


def test_a_changed_pipeline_kind_replaces_the_lower_pipeline() -> None:
    config = resolve([Layer("room", OPENAI_REALTIME), Layer("dispatch", OPENAI_CASCADE)])
    assert isinstance(config.pipeline, CascadePipeline)
    assert merge({"a": {"kind": "x", "b": 1}}, {"a": {"kind": "y"}}) == {"a": {"kind": "y"}}


@pytest.mark.parametrize(
    ("text", "code", "field"),
    [
        ('{"mode": "assistant",', ErrorCode.MALFORMED_JSON, ""),
        ("[1, 2]", ErrorCode.MALFORMED_JSON, ""),
        ('{"mode": "karaoke"}', ErrorCode.UNKNOWN_MODE, "mode"),
        (
            '{"pipeline": {"kind": "realtime", "provider": "azure"}}',
            ErrorCode.UNKNOWN_PROVIDER,
            "pipeline.provider",
        ),
        (
            '{"pipeline": {"kind": "cascade", "stt": {"provider": "deepgram"}}}',
            ErrorCode.UNKNOWN_PROVIDER,
            "pipeline.stt.provider",
        ),
        ('{"pipeline": {"kind": "batch"}}', ErrorCode.INVALID_VALUE, "pipeline.kind"),
        ('{"pipeline": {"kind": "realtime"}}', ErrorCode.INVALID_VALUE, "pipeline.provider"),
        ('{"language": 5}', ErrorCode.INVALID_VALUE, "language"),
        ('{"language": "english please"}', ErrorCode.INVALID_VALUE, "language"),
        (
            '{"turn_taking": {"endpointing": {"min_delay": "soon"}}}',
            ErrorCode.INVALID_VALUE,
            "turn_taking.endpointing.min_delay",
        ),
        (
            '{"turn_taking": {"endpointing": {"min_delay": -1}}}',
            ErrorCode.INVALID_VALUE,
            "turn_taking.endpointing.min_delay",
        ),
        ('{"langauge": "en"}', ErrorCode.UNKNOWN_FIELD, "langauge"),
        ('{"version": 2}', ErrorCode.UNSUPPORTED_VERSION, "version"),
        (
            '{"meeting": {"webhook_url": "not a url"}}',
            ErrorCode.INVALID_VALUE,
            "meeting.webhook_url",
        ),
        (
            '{"pipeline": {"kind": "cascade", "stt": {"fallback": [{"provider": "azure"}]}}}',
            ErrorCode.UNKNOWN_PROVIDER,
            "pipeline.stt.fallback.0.provider",
        ),
        (  # a fallback has no fallbacks of its own: the stage lists them all
            '{"pipeline": {"kind": "cascade", "llm": {"fallback": [{"fallback": []}]}}}',
            ErrorCode.UNKNOWN_FIELD,
            "pipeline.llm.fallback.0.fallback",
        ),
        (
            '{"pipeline": {"kind": "cascade", "tts": {"fallback": [{}, {}, {}]}}}',
            ErrorCode.INVALID_VALUE,
            "pipeline.tts.fallback",
        ),
    ],
)
def test_bad_input_names_the_field_and_the_fix(text: str, code: ErrorCode, field: str) -> None:
    report = error_of(text).report
    assert (report.code, report.field) == (code, field)
    assert len(report.message) > 20
    attribute = json.loads(report.to_attribute())
    assert set(attribute) == {"code", "field", "message"}


def test_malformed_json_names_its_source() -> None:
    report = error_of('{"mode":"assistant"}', "{oops").report
    assert "layer 1" in report.message


def test_worker_default_follows_the_available_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "")
    monkeypatch.setenv("GOOGLE_API_KEY", "g")
    for name in ("PARLEY_DEFAULT_CONFIG", "PARLEY_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    config = resolve(worker_layers(WorkerSettings.from_env()))
    assert isinstance(config.pipeline, RealtimePipeline) and config.pipeline.provider == "google"


def test_worker_config_file_and_env_layers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "parley.json"
    path.write_text('{"language": "fr", "greeting": "Bonjour"}')
    monkeypatch.setenv("PARLEY_CONFIG_FILE", str(path))
    monkeypatch.setenv("PARLEY_DEFAULT_CONFIG", '{"language": "de"}')
    config = resolve(worker_layers(WorkerSettings.from_env()))
    assert (config.language, config.greeting) == ("de", "Bonjour")

    monkeypatch.setenv("PARLEY_CONFIG_FILE", str(tmp_path / "missing.json"))
    with pytest.raises(ParleyError) as info:
        worker_layers(WorkerSettings.from_env())
    assert info.value.report.field == "PARLEY_CONFIG_FILE"


def test_schema_export_and_docs_document_every_field() -> None:
    schema = json.loads(json_schema())
    assert schema["properties"]["version"]["default"] == 1
    readme = (ROOT / "docs" / "config.md").read_text()
    for row in field_table().splitlines()[2:]:
        field = row.split("|")[1].strip()
        assert field in readme, f"docs/config.md does not document {field}"


def test_job_executor_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PARLEY_JOB_EXECUTOR", raising=False)
    assert WorkerSettings.from_env().job_executor == "process"
    monkeypatch.setenv("PARLEY_JOB_EXECUTOR", "thread")
    assert WorkerSettings.from_env().job_executor == "thread"
    monkeypatch.setenv("PARLEY_JOB_EXECUTOR", "fiber")
    with pytest.raises(ValueError, match="job_executor"):
        WorkerSettings.from_env()
