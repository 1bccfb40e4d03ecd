"""Phone callers without a server: the call status wait, the telephony preset, numbers kept
out of logs and file names, and the emulated line's codec and losses."""

from __future__ import annotations

import asyncio
import logging
import warnings
from typing import Any

import numpy as np
import pytest
from livekit import rtc
from livekit.plugins.participants import room_file_stem

from agent.config import RoomConfig
from agent.modes import phone
from agent.privacy import DropPersonalData, keep_out_of_logs, pseudonym, scrub
from stack.phone import PACKET, Line, LineQuality


class Room(rtc.EventEmitter[str]):
    """What ``phone.answered`` reads of a room: its participants and their events."""

    def __init__(self, caller: Any) -> None:
        super().__init__()
        self.remote_participants = {caller.identity: caller}


class Caller:
    identity = "sip_+15551234567"
    kind = rtc.ParticipantKind.PARTICIPANT_KIND_SIP

    def __init__(self, status: str) -> None:
        self.attributes = {phone.CALL_STATUS: status, phone.PHONE_NUMBER: "+15551234567"}


async def test_the_agent_waits_for_the_call_to_be_answered() -> None:
    caller = Caller("ringing")
    room = Room(caller)
    waiting = asyncio.create_task(phone.answered(room, caller))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    assert not waiting.done()
    caller.attributes[phone.CALL_STATUS] = "active"
    room.emit("participant_attributes_changed", {}, caller)
    assert await asyncio.wait_for(waiting, 1) is True


@pytest.mark.parametrize("how", ["hangup", "left"])
async def test_a_caller_who_hangs_up_while_ringing_is_not_spoken_to(how: str) -> None:
    caller = Caller("ringing")
    room = Room(caller)
    waiting = asyncio.create_task(phone.answered(room, caller))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    if how == "hangup":
        caller.attributes[phone.CALL_STATUS] = "hangup"
        room.emit("participant_attributes_changed", {}, caller)
    else:
        room.remote_participants.clear()
        room.emit("participant_disconnected", caller)
    assert await asyncio.wait_for(waiting, 1) is False


def test_a_phone_line_gets_the_telephony_preset_unless_the_room_chose_one() -> None:
    plain = RoomConfig.model_validate({"turn_taking": {"endpointing": {"max_delay": 2.0}}})
    lined = phone.for_line(plain)
    assert lined.turn_taking.preset == "telephony"
    assert lined.turn_taking.endpointing.max_delay == 2.0  # the room's own field stays
    chosen = RoomConfig.model_validate({"turn_taking": {"preset": "intake"}})
    assert phone.for_line(chosen).turn_taking.preset == "intake"
    stock = RoomConfig.model_validate({"turn_taking": {"preset": "livekit-default"}})
    assert phone.for_line(stock).turn_taking.preset == "livekit-default"


def test_a_callers_number_is_replaced_in_messages_reports_and_file_names() -> None:
    number = "+15551234567"
    room = f"intake_{number}_AbC123"
    assert number not in scrub(room) and pseudonym(number) in scrub(room)
    assert "5551234567" not in room_file_stem("RM_x", scrub(room))
    keep_out_of_logs("5550001111")  # a carrier that sends no "+"
    assert scrub("from 5550001111") == f"from {pseudonym('5550001111')}"
    assert scrub("pain level 7, born 1980-03-03") == "pain level 7, born 1980-03-03"

    record = logging.LogRecord("x", logging.INFO, "f", 1, "call from %s", (room,), None)
    DropPersonalData().filter(record)
    assert number not in record.getMessage()


def test_protect_keeps_the_number_and_identity_out_of_this_process_logs() -> None:
    caller = Caller("active")
    caller.identity = "sip_5559876543"
    caller.attributes[phone.PHONE_NUMBER] = "5559876543"
    phone.protect(caller)  # type: ignore[arg-type]
    assert "5559876543" not in scrub("participant sip_5559876543 joined")


# --- the emulated line -----------------------------------------------------------------------


def test_the_line_codes_g711_mu_law_as_the_standard_does() -> None:
    """Checked against Python's own G.711 (audioop, in the standard library until 3.13)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop
    rng = np.random.default_rng(1)
    pcm = (rng.standard_normal(PACKET) * 6000).clip(-32768, 32767).astype(np.int16)
    ours = Line(LineQuality(), seed=0).carry(pcm)
    reference = np.frombuffer(audioop.ulaw2lin(audioop.lin2ulaw(pcm.tobytes(), 2), 2), np.int16)
    # μ-law keeps about 8 bits of 14: both land on the same quantisation step.
    step = np.maximum(np.abs(pcm.astype(np.int32)) // 16, 8)
    assert np.all(np.abs(ours.astype(np.int32) - reference) <= step)
    assert not np.array_equal(ours, pcm)  # it is a lossy codec, not a copy


def test_packets_are_lost_at_the_rate_asked_and_late_ones_too() -> None:
    silence = np.zeros(PACKET, np.int16) + 1000
    lossy = Line(LineQuality(loss=0.1), seed=3)
    for _ in range(2000):
        lossy.carry(silence)
    assert 0.08 < lossy.lost / lossy.sent < 0.12
    jittery = Line(LineQuality(jitter_ms=60, buffer_ms=60), seed=3)
    for _ in range(2000):
        jittery.carry(silence)
    assert 0.13 < jittery.lost / jittery.sent < 0.19  # P(N(0, 60) > 60) = 16 %
