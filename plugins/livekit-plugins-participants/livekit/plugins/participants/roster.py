"""Who in a room is a person: every remote participant that is not an agent."""

from __future__ import annotations

from livekit import rtc


def is_agent(participant: rtc.RemoteParticipant) -> bool:
    return participant.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT


def humans(room: rtc.Room) -> list[rtc.RemoteParticipant]:
    """The remote participants that are not agents (this one or another): browsers, SDK
    clients, phone callers."""
    return [p for p in room.remote_participants.values() if not is_agent(p)]
