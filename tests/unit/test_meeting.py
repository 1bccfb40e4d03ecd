"""The meeting-assistant plugin's parts that need no server: addressing, the transcript file,
the notes' parsing and rendering, and webhook delivery against a local receiver."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from livekit.plugins import meeting_assistant as ma
from livekit.plugins import participants


@pytest.mark.parametrize(
    ("text", "request_"),
    [
        ("Parley, what did we decide about the budget?", "what did we decide about the budget?"),
        ("Harley, summarize the meeting.", "summarize the meeting."),  # Whisper's spelling
        ("Hey Parlay: who owns the launch?", "who owns the launch?"),
        ("okay so parley recap", "recap"),
        ("Parley.", ""),
        ("I told Parley about it.", None),  # talking about it, not to it
        ("Charlie, can you share your screen?", None),
        ("Partly because of the budget.", None),
        ("The party you are trying to reach", None),
    ],
)
def test_addressed_by_name_at_the_start(text: str, request_: str | None) -> None:
    assert ma.addressed(text, "Parley") == request_


def test_multi_word_names() -> None:
    assert ma.addressed("Doctor Who, what time is it?", "Doctor Who") == "what time is it?"
    assert ma.addressed("Doctor, what time is it?", "Doctor Who") is None


def line(seq: int, text: str, speaker: str = "alice") -> ma.Line:
    return ma.Line(seq=seq, speaker=speaker, name=speaker.title(), start=0.0, end=1.0, text=text)


def test_transcript_file_appends_and_resumes(tmp_path: Path) -> None:
    path = tmp_path / "room.transcript.jsonl"
    first = ma.TranscriptFile(path)
    first.load()
    first.append(line(first.next_seq, "Good morning."))
    first.append(line(first.next_seq, "Hello.", "bob"))
    with path.open("a") as f:
        f.write('{"seq": 3, "speaker": "al')  # a kill mid-write tears the last line
    resumed = ma.TranscriptFile(path)
    assert [x.text for x in resumed.load()] == ["Good morning.", "Hello."]
    assert resumed.next_seq == 3
    assert resumed.render(max_chars=10_000).splitlines()[1].endswith("Bob: Hello.")
    assert resumed.render(max_chars=5).count("\n") == 0  # at least the newest line


@pytest.mark.parametrize(
    ("reply", "structured"),
    [
        ('{"summary": "We met.", "decisions": ["Ship"], "action_items": '
         '[{"owner": "Bob", "what": "Write it", "due": "Friday"}]}', True),
        ('```json\n{"summary": "We met.", "decisions": ["Ship"], "action_items": '
         '[{"owner": "Bob", "what": "Write it", "due": "Friday"}]}\n```', True),
        ("We met and decided to ship.", False),
        ('{"summary": 3}', False),
    ],
)  # fmt: skip
def test_notes_parse_json_or_keep_the_text(reply: str, structured: bool) -> None:
    content, ok = ma.parse(reply)
    assert ok is structured
    if structured:
        assert content.action_items[0].owner == "Bob" and content.decisions == ["Ship"]
    else:
        assert content.summary == reply.strip()


def notes(**update: object) -> ma.Notes:
    base = ma.Notes(
        room="standup",
        generated_at=0.0,
        final=True,
        lines=2,
        speakers=["Alice", "Bob"],
        structured=True,
        summary="We met.",
        decisions=["Ship on Friday"],
        action_items=[ma.ActionItem(owner="Bob", what="Write the release notes", due="Friday")],
    )
    return base.model_copy(update=update)


def test_markdown_lists_decisions_and_owned_action_items() -> None:
    md = notes().markdown()
    assert "- Ship on Friday" in md
    assert "- [ ] **Bob**: Write the release notes (due Friday)" in md


def test_notes_files_and_an_unwritable_directory(tmp_path: Path) -> None:
    stem = tmp_path / participants.room_file_stem("RM_x", "a/b c")
    assert ma.write_files(stem, notes(room="a/b c")).ok
    assert json.loads((tmp_path / "RM_x-a_b_c.notes.json").read_text())["lines"] == 2
    md = tmp_path / "RM_x-a_b_c.notes.md"
    assert md.read_text().startswith("# Meeting notes: a/b c")
    assert stat.S_IMODE(md.stat().st_mode) == 0o600
    failed = ma.write_files(tmp_path / "missing" / "stem", notes())
    assert (failed.ok, failed.error) == (False, "not written")  # the path stays in the log


@pytest.mark.parametrize(
    "name", ["intake/42", "intake_42", "intake 42", "intake:42", "../intake/42", ".intake"]
)
def test_room_names_never_share_a_file_across_rooms(name: str) -> None:
    stems = {participants.room_file_stem(sid, name) for sid in ("RM_a", "RM_b")}
    assert len(stems) == 2
    for stem in stems:
        assert "/" not in stem and not stem.startswith(".") and ".." not in stem


async def test_a_participant_who_renames_keeps_the_name_shown_at_join() -> None:
    room: Any = SimpleNamespace(remote_participants={})
    assistant = ma.MeetingAssistant(
        room, stt_factory=lambda: None, notes_llm=None, session=None,  # type: ignore[arg-type, return-value]
        options=ma.MeetingOptions(directory=Path("unused")),
    )  # fmt: skip
    mallory: Any = SimpleNamespace(identity="mallory-1f2e", name="Mallory")
    assert assistant.name_of(mallory) == "Mallory"
    mallory.name = "Dr. Alice (host)"
    assert assistant.name_of(mallory) == "Mallory"
