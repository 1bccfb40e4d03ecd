"""Bad offline models become a ``model_unavailable`` error on the field to change."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from livekit.agents import vad
from livekit.plugins.offline.models import tiny_en_dir

from agent.config import ParleyError, RoomConfig
from agent.pipeline.build import build_session


def config(language: str = "en", **stages: dict[str, Any]) -> RoomConfig:
    pipeline = {"kind": "cascade"} | {
        stage: {"provider": "offline"} | stages.get(stage, {}) for stage in ("stt", "llm", "tts")
    }
    return RoomConfig.model_validate({"pipeline": pipeline, "language": language})


async def error_of(room: RoomConfig, vad_model: vad.VAD) -> dict[str, str]:
    with pytest.raises(ParleyError) as caught:
        await build_session(room, vad_model)
    return caught.value.report.model_dump(mode="json")


def corrupted_copy(src: Path, dst: Path) -> Path:
    """The model's files, with its weights overwritten half way (a broken download)."""
    shutil.copytree(src, dst) if src.is_dir() else shutil.copyfile(src, dst)
    weights = dst / "model.bin" if dst.is_dir() else dst
    data = bytearray(weights.read_bytes())
    data[len(data) // 2 :] = b"\0" * (len(data) - len(data) // 2)
    weights.write_bytes(bytes(data[: len(data) // 2 + 1024]))
    return dst


CASES: dict[str, tuple[RoomConfig, str, str]] = {
    "stt folder missing": (
        config(stt={"model": "nope/whisper"}), "pipeline.stt.model", "model.bin"
    ),
    "gguf missing": (config(llm={"model": "nope/m.gguf"}), "pipeline.llm.model", "GGUF"),
    "piper voice missing": (config(tts={"model": "nope/v.onnx"}), "pipeline.tts.model", "piper"),
    "no espeak voice": (config(tts={"voice": "xx"}), "pipeline.tts.voice", "espeak-ng --voices"),
    "no stt language": (config("tlh"), "language", "Whisper's languages"),
}  # fmt: skip


@pytest.fixture(autouse=True)
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where a room's model names point: the worker's models directory."""
    monkeypatch.setenv("PARLEY_MODELS_DIR", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("case", list(CASES))
async def test_missing_models_and_languages(
    case: str, vad_model: vad.VAD, models_dir: Path
) -> None:
    room, field, hint = CASES[case]
    error = await error_of(room, vad_model)
    assert error["code"] == "model_unavailable" and error["field"] == field, error
    assert hint.lower() in error["message"].lower(), error
    assert str(models_dir) not in error["message"], error  # the worker's paths stay its own


async def test_corrupted_whisper_model(tmp_path: Path, vad_model: vad.VAD) -> None:
    corrupted_copy(tiny_en_dir(), tmp_path / "whisper")
    error = await error_of(config(stt={"model": "whisper"}), vad_model)
    assert error["field"] == "pipeline.stt.model" and "does not load" in error["message"]


async def test_corrupted_gguf(tmp_path: Path, vad_model: vad.VAD) -> None:
    from livekit.plugins.offline.models import default_gguf

    corrupted_copy(default_gguf(), tmp_path / "model.gguf")
    error = await error_of(config(llm={"model": "model.gguf"}), vad_model)
    assert error["field"] == "pipeline.llm.model" and "does not load" in error["message"]


async def test_wrong_format_voice(tmp_path: Path, vad_model: vad.VAD) -> None:
    voice = tmp_path / "v.onnx"
    voice.write_text("not a model")
    (tmp_path / "v.onnx.json").write_text('{"language": {"code": "en_US"}}')
    error = await error_of(config(tts={"model": "v.onnx"}), vad_model)
    assert error["field"] == "pipeline.tts.model" and "not a ONNX file" in error["message"]
