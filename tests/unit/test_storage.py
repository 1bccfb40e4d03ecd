"""Nothing a room config says reaches the worker's disk outside its data directory, and what
is written there goes after the retention time."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from agent.config import ErrorCode, Layer, ParleyError, resolve
from agent.storage import sweep


def field_error(config: str) -> tuple[ErrorCode, str]:
    with pytest.raises(ParleyError) as info:
        resolve([Layer("dispatch metadata", config)])
    return info.value.report.code, info.value.report.field


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ('{"meeting": {"notes_dir": "/srv/notes"}}', "meeting.notes_dir"),
        ('{"meeting": {"notes_dir": "../../home"}}', "meeting.notes_dir"),
        ('{"meeting": {"notes_dir": "~root"}}', "meeting.notes_dir"),
        ('{"meeting": {"notes_dir": "a/b"}}', "meeting.notes_dir"),
        ('{"meeting": {"notes_dir": ".hidden"}}', "meeting.notes_dir"),
        (
            '{"pipeline": {"kind": "cascade", "llm": {"provider": "offline", '
            '"model": "/etc/passwd"}}}',
            "pipeline.llm.model",
        ),
        (
            '{"pipeline": {"kind": "cascade", "stt": {"provider": "offline", '
            '"model": "../../root/.ssh"}}}',
            "pipeline.stt.model",
        ),
        (
            '{"pipeline": {"kind": "cascade", "tts": {"provider": "offline", '
            '"model": "voices/../../x.onnx"}}}',
            "pipeline.tts.model",
        ),
        (
            '{"pipeline": {"kind": "cascade", "tts": {"voice": "--path=/etc"}}}',
            "pipeline.tts.voice",
        ),
    ],
)
def test_a_room_names_no_path(config: str, field: str) -> None:
    assert field_error(config) == (ErrorCode.INVALID_VALUE, field)


def test_names_under_the_worker_folders_are_fine() -> None:
    config = resolve(
        [
            Layer(
                "dispatch metadata",
                '{"meeting": {"notes_dir": "ward-3"}, "pipeline": {"kind": "cascade", '
                '"llm": {"provider": "offline", "model": "llama/qwen2.5-1.5b-q4.gguf"}}}',
            )
        ]
    )
    assert config.meeting.notes_dir == "ward-3"


def test_retention_deletes_old_files_only(tmp_path: Path) -> None:
    now = time.time()
    old, new = tmp_path / "meetings" / "a" / "old.jsonl", tmp_path / "reports" / "new.json"
    model = tmp_path / "models" / "kept.gguf"  # not something Parley wrote about a room
    for path in (old, new, model):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    os.utime(old, (now - 31 * 86_400, now - 31 * 86_400))
    os.utime(model, (now - 400 * 86_400, now - 400 * 86_400))
    assert sweep(tmp_path, days=30, now=now) == 1
    assert not old.exists() and not old.parent.exists() and new.exists() and model.exists()


def test_private_files_and_folders(tmp_path: Path) -> None:
    from livekit.plugins.participants import append_private, private_dir, write_private

    folder = private_dir(tmp_path / "a" / "b")
    write_private(folder / "f.json", "{}")
    append_private(folder / "t.jsonl", "{}")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in ("f.json", "t.jsonl"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
