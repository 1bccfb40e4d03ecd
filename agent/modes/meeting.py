"""The meeting mode: Parley's room config → the livekit-plugins-meeting-assistant plugin.

The room's pipeline speaks the answers through an AgentSession whose audio input is off:
the plugin hears every participant itself, one STT stream each.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from livekit import rtc
from livekit.agents import Agent, AgentSession, stt, vad
from livekit.plugins import meeting_assistant
from pydantic import BaseModel

from ..config.errors import ErrorCode, ParleyError
from ..config.models import CascadePipeline, LLMStage, RoomConfig, STTStage
from ..pipeline.build import llm_stage, stt_stage
from ..reports.publish import publish

REPORT_ATTRIBUTE = "parley.meeting"
INSTRUCTIONS = (
    "You are {name}, an assistant listening to a meeting with several people. You speak only "
    "when someone addresses you. Answer briefly, in plain spoken language without lists or "
    "markup, in the language with code {language}."
)


class MeetingReport(BaseModel):
    """Published with each set of notes: counts, delays and where the notes went."""

    lines: int
    final_notes: bool
    transcript_delay: meeting_assistant.TranscriptDelay
    deliveries: list[meeting_assistant.Delivery]


class MeetingAgent(Agent):
    def __init__(self, config: RoomConfig) -> None:
        super().__init__(
            instructions=config.instructions
            or INSTRUCTIONS.format(name=config.meeting.wake_name, language=config.language)
        )


def stt_config(config: RoomConfig) -> STTStage:
    p = config.pipeline
    if config.meeting.stt:
        return config.meeting.stt
    return p.stt if isinstance(p, CascadePipeline) else STTStage(provider="offline")


def notes_llm_config(config: RoomConfig) -> LLMStage:
    p = config.pipeline
    if config.meeting.notes_llm:
        return config.meeting.notes_llm
    return p.llm if isinstance(p, CascadePipeline) else LLMStage(provider=p.provider)


def notes_directory(config: RoomConfig, data_dir: Path) -> Path:
    """The directory, checked writable now: a meeting must not find out at its end."""
    field = "meeting.notes_dir"
    directory = Path(config.meeting.notes_dir or data_dir / "meetings").expanduser()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as e:
        raise ParleyError(
            ErrorCode.INVALID_VALUE if config.meeting.notes_dir else ErrorCode.INTERNAL_ERROR,
            field if config.meeting.notes_dir else "",
            f"the notes directory {directory} cannot be written ({e.strerror}): choose a "
            "directory the worker may create and write",
        ) from None
    return directory


def streaming(recogniser: stt.STT[Any], vad_model: vad.VAD) -> stt.STT[Any]:
    """Cloud STTs that only transcribe whole clips are cut into utterances by the VAD."""
    if recogniser.capabilities.streaming:
        return recogniser
    return stt.StreamAdapter(stt=recogniser, vad=vad_model)


async def start(
    room: rtc.Room,
    config: RoomConfig,
    session: AgentSession[None],
    vad_model: vad.VAD,
    data_dir: Path,
) -> meeting_assistant.MeetingAssistant:
    directory = notes_directory(config, data_dir)
    recogniser = streaming(
        await asyncio.to_thread(stt_stage, stt_config(config), config.language), vad_model
    )
    assistant = meeting_assistant.MeetingAssistant(
        room,
        stt_factory=lambda: recogniser,
        notes_llm=llm_stage(notes_llm_config(config)),
        session=session,
        options=meeting_assistant.MeetingOptions(
            directory=directory,
            wake_name=config.meeting.wake_name,
            webhook_url=str(config.meeting.webhook_url) if config.meeting.webhook_url else None,
        ),
    )

    def report(
        notes: meeting_assistant.Notes, deliveries: list[meeting_assistant.Delivery]
    ) -> None:
        summary = MeetingReport(
            lines=notes.lines,
            final_notes=notes.final,
            transcript_delay=assistant.delay_summary(),
            deliveries=deliveries,
        )
        publish(room, REPORT_ATTRIBUTE, summary)

    assistant.on_notes = report
    await assistant.start()
    return assistant
