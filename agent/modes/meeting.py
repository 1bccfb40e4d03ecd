"""The meeting mode: Parley's room config → the livekit-plugins-meeting-assistant plugin.

The room's pipeline speaks the answers through an AgentSession whose audio input is off:
the plugin hears every participant itself, one STT stream each. The meeting ends, and its
final notes are written, when the last person leaves or the job ends.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from livekit import rtc
from livekit.agents import Agent, AgentSession, room_io, stt, vad
from livekit.plugins import meeting_assistant, participants, webhook
from pydantic import BaseModel

from .. import protocol
from ..background import spawn
from ..config.models import CascadePipeline, LLMStage, RoomConfig, STTStage
from ..pipeline.build import llm_stage, stt_stage
from ..reports.publish import publish
from .context import RoomContext
from .outputs import webhook_policy, writable_folder
from .session import open_session, start

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


def stt_config(config: RoomConfig) -> tuple[STTStage, str]:
    """The speakers' STT and its field (what its errors name)."""
    p = config.pipeline
    if config.meeting.stt:
        return config.meeting.stt, "meeting.stt"
    if isinstance(p, CascadePipeline):
        return p.stt, "pipeline.stt"
    return STTStage(provider="offline"), "meeting.stt"


def notes_llm_config(config: RoomConfig) -> tuple[LLMStage, str]:
    """The notes' model and its field."""
    p = config.pipeline
    if config.meeting.notes_llm:
        return config.meeting.notes_llm, "meeting.notes_llm"
    if isinstance(p, CascadePipeline):
        return p.llm, "pipeline.llm"
    return LLMStage(provider=p.provider), "pipeline.provider"


FINISH_S = meeting_assistant.MeetingOptions.notes_timeout_s + webhook.WebhookPolicy(b"").longest_s
"""The final notes: their model's bound, then every webhook attempt."""


def notes_directory(config: RoomConfig, data_dir: Path) -> Path:
    return writable_folder(data_dir / "meetings" / (config.meeting.notes_dir or ""), "notes")


def streaming(recogniser: stt.STT[Any], vad_model: vad.VAD) -> stt.STT[Any]:
    """Cloud STTs that only transcribe whole clips are cut into utterances by the VAD."""
    if recogniser.capabilities.streaming:
        return recogniser
    return stt.StreamAdapter(stt=recogniser, vad=vad_model)


async def assistant_for(
    room: RoomContext, session: AgentSession[None]
) -> meeting_assistant.MeetingAssistant:
    config = room.config
    directory = notes_directory(config, room.settings.data_dir)
    webhook_url = str(config.meeting.webhook_url) if config.meeting.webhook_url else None
    policy = webhook_policy(room.settings, webhook_url, "meeting.webhook_url")
    speakers_stt, at = stt_config(config)
    # Whisper base, not tiny.en, for English: the assistant must hear its own name, which
    # tiny.en turns into another ("Carly") in one of five questions (docs/offline.md).
    recogniser = streaming(
        await asyncio.to_thread(stt_stage, speakers_stt, config.language, accurate=True, at=at),
        room.vad,
    )
    assistant = meeting_assistant.MeetingAssistant(
        room.room,
        stt_factory=lambda: recogniser,
        notes_llm=llm_stage(*notes_llm_config(config)),
        session=session,
        options=meeting_assistant.MeetingOptions(
            directory=directory,
            wake_name=config.meeting.wake_name,
            webhook_url=webhook_url,
            webhook=policy,
            transcript_topic=protocol.MEETING_TRANSCRIPT,
            notes_topic=protocol.MEETING_NOTES,
            speaker_attribute=protocol.SPEAKER,
        ),
        on_outage=room.status.told,
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
        publish(room.room, protocol.MEETING, summary)

    assistant.on_notes = report
    return assistant


async def run(room: RoomContext) -> None:
    """The assistant starts before the session, so once the agent shows as listening every
    track is being transcribed."""
    session = await open_session(room)
    with room.options_of("meeting"):
        assistant = await assistant_for(room, session)
        await assistant.start()

    async def end() -> None:
        try:
            await assistant.finish()
        finally:
            room.job.shutdown(reason="meeting ended: the last participant left")

    def on_left(_: rtc.RemoteParticipant) -> None:
        if not participants.humans(room.room):
            spawn(end())

    async def on_shutdown() -> None:  # e.g. the room was deleted: the notes still get written
        await assistant.finish()
        await assistant.aclose()

    room.room.on("participant_disconnected", on_left)
    room.job.add_shutdown_callback(on_shutdown)
    quiet = room_io.RoomOptions(audio_input=False, text_input=False, close_on_disconnect=False)
    await start(room, session, MeetingAgent(room.config), quiet)
