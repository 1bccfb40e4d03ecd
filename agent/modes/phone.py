"""Phone callers: participants that LiveKit's SIP service brings into a room (kind SIP, with
``sip.*`` attributes). What a mode does differently for one: it waits until the call is
answered, uses the ``telephony`` turn-taking preset unless the room sets one, takes keys
(DTMF) as input, hangs up and transfers through the SIP API, and keeps the caller's number
out of logs and reports.

The attribute names and values are livekit-sip's (``livekit/protocol`` livekit/attrs.go).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from livekit import api, rtc
from livekit.agents import JobContext, room_io

from ..config.models import RoomConfig, TurnTaking
from ..privacy import keep_out_of_logs

logger = logging.getLogger("parley")

CALL_STATUS = "sip.callStatus"
PHONE_NUMBER = "sip.phoneNumber"
CALL_ID = "sip.callID"
ACTIVE = "active"
"""Set once the call is answered and media flows; before it: ``dialing`` or ``ringing``."""
HANGUP = "hangup"
INPUT_RATE = 16_000
"""What the agent reads a caller at: the SFU delivers the line's 8 kHz band inside 48 kHz
Opus, and 16 kHz holds that band whole and is the rate the VAD, the end-of-turn model and
Whisper read, so the audio is resampled once (livekit-agents' default, 24 kHz, resamples
again for each of them)."""


def is_phone(participant: rtc.RemoteParticipant) -> bool:
    return participant.kind == rtc.ParticipantKind.PARTICIPANT_KIND_SIP


def protect(participant: rtc.RemoteParticipant) -> None:
    """The caller's number and the identity and room name built from it are PHI: the
    job's logs show them replaced (``privacy.keep_out_of_logs``)."""
    number = participant.attributes.get(PHONE_NUMBER, "")
    for value in (number, participant.identity):
        if value:
            keep_out_of_logs(value)


async def answered(room: rtc.Room, participant: rtc.RemoteParticipant) -> bool:
    """Until the call is ``active``; ``False`` if the caller hangs up (or leaves) first."""
    changed = asyncio.Event()

    def on_change(*_: object) -> None:
        changed.set()

    room.on("participant_attributes_changed", on_change)
    room.on("participant_disconnected", on_change)
    try:
        while True:
            status = participant.attributes.get(CALL_STATUS)
            if status == ACTIVE:
                return True
            if status == HANGUP or participant.identity not in room.remote_participants:
                return False
            await changed.wait()
            changed.clear()
    finally:
        room.off("participant_attributes_changed", on_change)
        room.off("participant_disconnected", on_change)


def for_line(config: RoomConfig) -> RoomConfig:
    """The room's config for a phone caller: the telephony preset unless the room chose one."""
    if "preset" in config.turn_taking.model_fields_set:
        return config
    turns = TurnTaking.model_validate(
        {**config.turn_taking.model_dump(exclude_unset=True), "preset": "telephony"}
    )
    return config.model_copy(update={"turn_taking": turns})


def audio_input() -> room_io.AudioInputOptions:
    return room_io.AudioInputOptions(sample_rate=INPUT_RATE)


def on_keys(room: rtc.Room, caller: rtc.RemoteParticipant, press: Callable[[str], None]) -> None:
    """``press(digit)`` for each key the caller presses (a DTMF packet from the SIP service)."""

    def on_dtmf(ev: rtc.SipDTMF) -> None:
        if ev.participant is not None and ev.participant.identity == caller.identity:
            press(ev.digit)

    room.on("sip_dtmf_received", on_dtmf)


async def hang_up(job: JobContext, caller: rtc.RemoteParticipant) -> None:
    """Ends the call: removing the participant makes the SIP service send BYE."""
    if caller.identity not in job.room.remote_participants:
        return  # already gone: the caller hung up
    await job.api.room.remove_participant(
        api.RoomParticipantIdentity(room=job.room.name, identity=caller.identity)
    )


async def hang_up_all(job: JobContext) -> None:
    """Hangs up every phone caller in the room: the agent is leaving, and a caller cannot
    read ``parley.error``; the line is not left open in silence."""
    for participant in list(job.room.remote_participants.values()):
        if is_phone(participant):
            try:
                await hang_up(job, participant)
            except Exception as e:  # the room is being left anyway: say so, go on
                logger.warning("could not hang up a phone caller (%s)", type(e).__name__)


async def transfer(job: JobContext, caller: rtc.RemoteParticipant, to: str) -> None:
    """Hands the call to ``to`` (a ``tel:`` or ``sip:`` URI) with a SIP REFER; the SIP
    service ends the caller's participant once the transfer is accepted."""
    await job.api.sip.transfer_sip_participant(
        api.TransferSIPParticipantRequest(
            room_name=job.room.name,
            participant_identity=caller.identity,
            transfer_to=to,
            play_dialtone=True,
        )
    )
