"""Phone calls into the intake line through the real server and its SIP API: the caller comes
in through an inbound trunk and a dispatch rule, on a G.711 line, answers by voice and by
keys, and the agent hangs up, transfers, or dials out (``stack.phone`` has the emulated SIP
leg). The offline cascade hears the caller, so Whisper is what understands the line."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

import numpy as np
import pytest
from livekit.plugins import offline, silero

from agent import protocol
from fakes.audio import rms_dbfs
from stack.intake import OFFLINE, cut_to, records
from stack.livekit_server import LiveKitServer
from stack.participant import SILENCE_DBFS, wait_for
from stack.phone import LINE_RATE, PhoneCaller, PhoneService, dispatch_rule, outbound_trunk
from stack.recordings import spoken
from stack.webhook import receiving
from stack.worker import WorkerProcess

from ..models.conftest import pcm_frame
from .rooms import MEASUREMENTS

LINE = "+15550100"
"""The clinic's number (the inbound trunk's)."""
QUIET_S = 1.0
LEAD_S = 0.3
"""Line audio kept ahead of each of the agent's utterances when Whisper checks it."""
GAP_S = 0.35
"""Quiet that ends an utterance (espeak-ng pauses about this long between sentences)."""
ITEMS = ("full_name", "birth_date", "pain", "pain_level", "smoking")


def room_config(hook_url: str, *items: str, **intake: Any) -> dict[str, Any]:
    return {
        "mode": "intake",
        "pipeline": OFFLINE,
        "intake": {"questionnaire": cut_to(items), "webhook_url": hook_url, **intake},
    }


@pytest.fixture(scope="module")
def ear() -> offline.STT:
    """Whisper as the agent runs it, but over whole passages (several sentences): the
    fitted context suits one utterance."""
    return offline.STT(vad=silero.VAD.load(), language="en", fit_context=False)


async def heard(caller: PhoneCaller, ear: offline.STT, after: float) -> str:
    """What the caller heard since ``after``, as Whisper writes it: each of the agent's
    utterances on its own, since Whisper may call a long passage with pauses, seconds of line
    silence ahead of it, no speech at all."""
    texts = []
    for audio in utterances(caller, after):
        result = await ear.recognize(pcm_frame(audio, LINE_RATE))
        texts.append(result.alternatives[0].text.lower().strip())
    return " ".join(t for t in texts if t)


def utterances(caller: PhoneCaller, after: float) -> list[np.ndarray]:
    """The agent's audio since ``after`` cut at each quiet stretch of ``GAP_S``, each piece
    from ``LEAD_S`` before its first sound."""
    pieces: list[list[np.ndarray]] = []
    quiet: list[tuple[float, np.ndarray]] = []  # since the last sound
    for at, samples in caller.agent_frames:
        if at <= after:
            continue
        if rms_dbfs(samples) <= SILENCE_DBFS:
            quiet.append((at, samples))
            continue
        if not pieces or at - (quiet[0][0] if quiet else at) > GAP_S:
            pieces.append([s for t, s in quiet if at - t <= LEAD_S])
        else:
            pieces[-1].extend(s for _, s in quiet)
        pieces[-1].append(samples)
        quiet = []
    return [np.concatenate(piece) for piece in pieces]


async def next_question(caller: PhoneCaller, after: float, quiet_s: float = QUIET_S) -> float:
    """Waits until the agent has said its next words to the end (no sound for ``quiet_s``:
    a longer wait spans the pauses between its sentences); returns when they began."""
    await caller.wait_for_agent_quiet(after, quiet_s)
    began = caller.agent_sound_after(after)
    assert began is not None
    return began


async def say(caller: PhoneCaller, text: str) -> float:
    await caller.speak(spoken(text))
    assert caller.speech_end is not None
    return caller.speech_end


async def press(caller: PhoneCaller, keys: str) -> float:
    await caller.press(keys)
    return time.monotonic()


def final(caller: PhoneCaller, status: str) -> dict[str, Any] | None:
    return next((r for r in records(caller) if r["status"] == status), None)


async def test_a_caller_answers_by_voice_and_keys_and_the_agent_hangs_up(
    livekit_server: LiveKitServer,
    worker: WorkerProcess,
    phones: PhoneService,
    ear: offline.STT,
) -> None:
    async with receiving([200]) as hook:
        config = room_config(hook.url, *ITEMS)
        async with dispatch_rule(phones, LINE, worker.agent_name, config):
            caller = PhoneCaller()
            caller.watch(protocol.INTAKE_RECORD)
            number = "+15551230001"
            call = await phones.dial_in(caller, number, LINE)
            try:
                assert call["room"].startswith("intake_") and caller.room.name == call["room"]
                # Ringing until the agent's track is up; the agent speaks once it is active.
                await caller.connected()
                active_at = time.monotonic()
                began = await next_question(caller, 0.0, quiet_s=3.0)
                assert began >= active_at - 0.05, "the agent spoke before the call was answered"
                greeting = await heard(caller, ear, 0.0)
                # Whisper writes the digit as a numeral or a word.
                assert "not a person" in greeting, greeting
                assert "press 1" in greeting or "press one" in greeting, greeting

                at = await press(caller, "1")  # consent
                began = await next_question(caller, at)
                assert "name" in await heard(caller, ear, began - 0.01)
                at = await say(caller, "My name is John Smith.")
                await next_question(caller, at)
                at = await press(caller, "03031980#")  # birth date, typed
                await next_question(caller, at)
                at = await say(caller, "No.")  # pain
                await next_question(caller, at)
                at = await press(caller, "2")  # smoking: former
                began = await next_question(caller, at)  # the read-back
                await press(caller, "1")  # correct
                await wait_for(lambda: caller.gone, "the agent hanging up", 30)
            finally:
                await phones.end(caller)
        record = final(caller, "complete")
        assert record is not None, records(caller)[-1:]
        assert record["answers"] == {
            "full_name": "John Smith",
            "birth_date": "1980-03-03",
            "pain": False,
            "smoking": "former",
        }
        await wait_for(lambda: any(b["event"] == "intake.record" for b in hook.bodies), "webhook")
    # The number is PHI: not in the worker's log, the report or the files' names.
    log = worker.process.log_text()
    assert number not in log and number[1:] not in log
    for path in worker.data_dir.rglob("*"):
        assert number[1:] not in path.name, path
        if path.is_file() and path.suffix == ".json" and "reports" in path.parts:
            assert number[1:] not in path.read_text(), path
    took = caller.agent_sound_times[-1] - caller.agent_sound_times[0]
    MEASUREMENTS.append(f"phone intake call (4 items, voice and keys): {took:.0f} s")


async def test_two_calls_at_once_get_their_own_rooms_and_records(
    livekit_server: LiveKitServer, worker: WorkerProcess, phones: PhoneService
) -> None:
    """Keys only, so the two calls need no speech recognition of the caller; one caller
    hangs up half-way and their record is kept as partial."""
    items = ("birth_date", "pain", "pain_level", "smoking")
    async with (
        receiving([200]) as hook,
        dispatch_rule(phones, LINE, worker.agent_name, room_config(hook.url, *items)),
    ):
        callers = [PhoneCaller(), PhoneCaller()]
        for caller in callers:
            caller.watch(protocol.INTAKE_RECORD)

        async def complete(caller: PhoneCaller, number: str) -> None:
            await phones.dial_in(caller, number, LINE)
            await caller.connected()
            at = 0.0
            for keys in ("1", "12251990#", "1", "4#", "3", "1"):
                await caller.wait_for_agent_quiet(at, QUIET_S)
                at = await press(caller, keys)
            await wait_for(lambda: caller.gone, "the agent hanging up", 30)

        async def partial(caller: PhoneCaller, number: str) -> None:
            await phones.dial_in(caller, number, LINE)
            await caller.connected()
            at = 0.0
            for keys in ("1", "07041976#"):
                await caller.wait_for_agent_quiet(at, QUIET_S)
                at = await press(caller, keys)
            await wait_for(lambda: len(records(caller)) >= 2, "the date's record")
            await phones.end(caller)  # hangs up

        try:
            await asyncio.gather(
                complete(callers[0], "+15551230002"), partial(callers[1], "+15551230003")
            )
        finally:
            for caller in callers:
                await phones.end(caller)
        await wait_for(lambda: len(hook.bodies) >= 2, "both records delivered", 30)
    rooms = {c.room_name for c in callers}
    assert len(rooms) == 2
    done = final(callers[0], "complete")
    assert done is not None and done["answers"] == {
        "birth_date": "1990-12-25",
        "pain": True,
        "pain_level": 4.0,
        "smoking": "current",
    }
    # The one who hung up: the partial record reaches the clinic with what was answered.
    delivered = [b["record"] for b in hook.bodies if b["event"] == "intake.record"]
    (cut,) = [r for r in delivered if r["status"] == "partial"]
    assert cut["answers"] == {"birth_date": "1976-07-04"}, cut
    assert {r["status"] for r in delivered} == {"complete", "partial"}


TRANSFER_TO = "tel:+15550199"


@pytest.mark.parametrize("outcome", ["transferred", "refused", "no transfer_to"])
async def test_a_red_flag_on_the_phone_transfers_the_call_or_hangs_up(
    livekit_server: LiveKitServer,
    worker: WorkerProcess,
    phones: PhoneService,
    ear: offline.STT,
    outcome: str,
) -> None:
    """``refused``: the transfer target does not pick up; the caller then hears the safety
    message and the agent hangs up, and the record says the transfer failed."""
    extra = {} if outcome == "no transfer_to" else {"transfer_to": TRANSFER_TO}
    phones.refuse_transfers = outcome == "refused"
    async with receiving([200]) as hook:
        config = room_config(hook.url, "full_name", "pain", "pain_level", **extra)
        async with dispatch_rule(phones, LINE, worker.agent_name, config):
            caller = PhoneCaller()
            caller.watch(protocol.INTAKE_RECORD)
            await phones.dial_in(caller, "+15551230004", LINE)
            try:
                await caller.connected()
                await caller.wait_for_agent_quiet(0.0, QUIET_S)
                at = await press(caller, "1")
                await caller.wait_for_agent_quiet(at, QUIET_S)
                before = len(phones.transfers)
                said = await say(caller, "I have crushing chest pain.")
                await wait_for(lambda: caller.gone, "the end of the call", 45)
                words = await heard(caller, ear, said - 3.0)
            finally:
                phones.refuse_transfers = False
                await phones.end(caller)
        record = final(caller, "escalated")
        assert record is not None and record["escalation"]["rule"] == "chest_pain"
        await wait_for(lambda: any(b["event"] == "intake.record" for b in hook.bodies), "webhook")
    (delivered,) = [b["record"] for b in hook.bodies if b["event"] == "intake.record"]
    if outcome != "no transfer_to":
        # The server's TransferSIPParticipant reached the SIP service with the target.
        assert [t.to for t in phones.transfers[before:]] == [TRANSFER_TO]
        assert "transferring" in words, words
        assert delivered["transfer"] == {
            "to": TRANSFER_TO,
            "status": outcome.replace("refused", "failed"),
        }
        assert delivered["escalation"]["handoff"] is True
        if outcome == "refused":
            assert "emergency" in words, words
    else:
        assert phones.transfers[before:] == []
        assert "emergency" in words, words
        assert "transfer" not in delivered


async def test_python_m_agent_dial_calls_a_patient_back_into_an_intake_room(
    livekit_server: LiveKitServer, worker: WorkerProcess, phones: PhoneService
) -> None:
    """``python -m agent dial``: the room, the agent's dispatch, then ``CreateSIPParticipant``
    through the server to the SIP service; the patient picks up and hears the first
    question; they hang up and the agent ends the call with nothing recorded (no consent)."""
    config = {
        "mode": "intake",
        "pipeline": OFFLINE,
        "intake": {"questionnaire": cut_to(("pain", "pain_level"))},
    }
    async with outbound_trunk(phones, LINE) as trunk, phones.serving():
        dial = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "agent", "dial", "--to", "+15551230005",
            "--trunk", trunk, "--config", json.dumps(config),
            env={**os.environ, **livekit_server.env(), "LIVEKIT_AGENT_NAME": worker.agent_name},
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(dial.communicate(), 60)
        assert dial.returncode == 0
        printed = json.loads(out.decode().splitlines()[-1])
        assert "+15551230005" not in out.decode()  # printed masked
        (request,) = phones.dialed[-1:]
        assert request["callTo"] == "+15551230005" and request["roomName"] == printed["room"]
        (callee,) = [c for c in phones.callers.values() if c.call_id == printed["sip_call_id"]]
        assert callee.room.local_participant.identity == "callee"
        await callee.wait_for_agent_quiet(0.0, 3.0, timeout=60)
        picked_up = callee.room.local_participant.attributes  # set after RING_S
        assert picked_up.get("sip.callStatus") == "active"
        await phones.end(callee)


async def test_a_room_the_agent_cannot_serve_hangs_up_its_phone_caller(
    livekit_server: LiveKitServer, worker: WorkerProcess, phones: PhoneService
) -> None:
    """A caller cannot read ``parley.error``: after the grace period the agent hangs up
    instead of leaving the line ringing in silence."""
    config = {"mode": "intake", "intake": {"questionnaire": "no-such-questionnaire"}}
    async with dispatch_rule(phones, LINE, worker.agent_name, config):
        caller = PhoneCaller()
        await phones.dial_in(caller, "+15551230006", LINE)
        try:
            await wait_for(lambda: caller.gone, "the agent hanging up", 30)
        finally:
            await phones.end(caller)
    assert not caller.agent_sound_times
