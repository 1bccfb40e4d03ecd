"""The intake mode through the real server: a caller answers a six-item questionnaire in
synthesized speech and the record, its FHIR document, the webhook and the file are checked
field by field; a caller who says a red-flag sentence hears the safety message within 1.5 s.

- The offline cascade: Whisper hears, the engine asks as written and parses the answers.
- OpenAI Realtime and the OpenAI cascade (the fakes): the model records each answer with the
  ``record_answer`` tool. The fakes understand nothing, so the test scripts what they hear
  and which value the model hands the engine; the plugins' tool path and the engine's
  validation are real."""

from __future__ import annotations

import json
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from livekit.plugins import intake, webhook

from agent import protocol
from stack.fakes import FakeProviders
from stack.livekit_server import LiveKitServer
from stack.participant import Participant, wait_for
from stack.recordings import spoken
from stack.rooms import room_with
from stack.webhook import Receiver, receiving
from stack.worker import WEBHOOK_SECRET, WorkerProcess

from .rooms import MEASUREMENTS

OFFLINE = {
    "kind": "cascade",
    "stt": {"provider": "offline"},
    "llm": {"provider": "offline"},
    "tts": {"provider": "offline"},
}
PIPELINES: dict[str, dict[str, Any]] = {
    "offline-cascade": OFFLINE,
    "openai-realtime": {"kind": "realtime", "provider": "openai"},
    "openai-cascade": {"kind": "cascade"},
}
SIX = ["full_name", "birth_date", "pain", "pain_level", "smoking", "symptoms"]
CALLER = [
    "Yes, you may.",
    "My name is John Smith.",
    "March third, nineteen eighty.",
    "Yes.",
    "Um, about a seven.",
    "I am a former smoker.",
    "A cough and a headache.",
    "Yes, that is all correct.",
]
EXPECTED: dict[str, Any] = {
    "full_name": "John Smith",
    "birth_date": "1980-03-03",
    "pain": True,
    "pain_level": 7.0,
    "smoking": "former",
    "symptoms": ["cough", "headache"],
}
MODEL_VALUES = [
    ("consent", "yes"),
    ("full_name", "John Smith"),
    ("birth_date", "1980-03-03"),
    ("pain", "yes"),
    ("pain_level", "7"),
    ("smoking", "former smoker"),
    ("symptoms", "cough, headache"),
    ("confirmed", "yes"),
]
"""What a capable model hands the engine for each caller line."""
QUIET_S = 1.0
"""Silence from the agent that means it finished its question."""


def six_items() -> dict[str, Any]:
    """The packaged questionnaire cut to six items, inline in the room config."""
    data = intake.example_questionnaire().model_dump(mode="json", exclude_none=True)
    data["items"] = [i for i in data["items"] if i["id"] in SIX]
    data["red_flags"] = []
    return data


def config(pipeline: str, hook_url: str) -> dict[str, Any]:
    return {
        "mode": "intake",
        "pipeline": PIPELINES[pipeline],
        "intake": {"questionnaire": six_items(), "webhook_url": hook_url},
    }


@contextmanager
def scripted(
    fakes: FakeProviders, pipeline: str, lines: list[str], values: list[Any]
) -> Iterator[None]:
    """What the fake providers hear and which answers the fake model records (offline: none,
    Whisper and the engine do it)."""
    if pipeline == "offline-cascade":
        yield
        return
    calls = [{"name": "record_answer", "arguments": {"item": i, "value": v}} for i, v in values]
    fakes.configure(transcripts=lines, tool_calls=calls)
    try:
        yield
    finally:
        fakes.configure(transcripts=[], tool_calls=[])


async def agent_quiet(caller: Participant, after: float) -> None:
    """Until the agent has said something after ``after`` and then been quiet a while."""

    def done() -> bool:
        times = caller.agent_sound_times
        return bool(times) and times[-1] > after and time.monotonic() - times[-1] > QUIET_S

    await wait_for(done, "the agent's next question, to its end", timeout=60)


def records(caller: Participant) -> list[dict[str, Any]]:
    return [json.loads(t.text) for t in caller.texts.get(protocol.INTAKE_RECORD, [])]


def record_files(worker: WorkerProcess, room: str) -> list[Path]:
    return sorted((worker.data_dir / "intake").glob(f"*-{room}-*.intake.json"))


async def answer_all(
    server: LiveKitServer, worker: WorkerProcess, pipeline: str, hook: Receiver
) -> tuple[Participant, float]:
    """A caller says every line once the agent's question has ended; returns the caller and
    the seconds from the agent's first words to the complete record."""
    async with room_with(
        server,
        worker.agent_name,
        {"caller": {}},
        dispatch_metadata=config(pipeline, hook.url),
        prefix=f"intake-{pipeline}",
    ) as people:
        caller = people["caller"]
        caller.watch(protocol.INTAKE_RECORD)
        said_at = 0.0
        for line in CALLER:
            await agent_quiet(caller, said_at)
            await caller.speak(spoken(line))
            said_at = time.monotonic()
        await wait_for(
            lambda: any(r["status"] == "complete" for r in records(caller)), "a complete record"
        )
        took = caller.texts[protocol.INTAKE_RECORD][-1].received - caller.agent_sound_times[0]
        await wait_for(lambda: hook.bodies, "the record at the webhook")
    return caller, took


@pytest.mark.parametrize("pipeline", list(PIPELINES))
async def test_a_caller_answers_six_items_and_the_record_is_complete(
    livekit_server: LiveKitServer, worker: WorkerProcess, fakes: FakeProviders, pipeline: str
) -> None:
    async with receiving([200]) as hook:
        with scripted(fakes, pipeline, CALLER, MODEL_VALUES):
            caller, took = await answer_all(livekit_server, worker, pipeline, hook)
    room = caller.room.name or ""

    final = next(r for r in records(caller) if r["status"] == "complete")
    assert final["answers"] == EXPECTED, final["answers"]
    assert final["consent"] is True and final["missing"] == [] and final["escalation"] is None
    fhir = final["fhir"]
    assert fhir["resourceType"] == "QuestionnaireResponse" and fhir["status"] == "completed"
    answers = {i["linkId"]: i["answer"] for i in fhir["item"]}
    assert answers["birth_date"] == [{"valueDate": "1980-03-03"}]
    assert [a["valueCoding"]["code"] for a in answers["symptoms"]] == ["cough", "headache"]
    # The webhook: the same record and its Questionnaire, signed.
    (body,) = [b for b in hook.bodies if b["event"] == "intake.record"]
    assert body["record"]["answers"] == EXPECTED
    assert body["questionnaire"]["resourceType"] == "Questionnaire"
    for raw, headers in zip(hook.raw, hook.headers, strict=True):
        assert webhook.verify(WEBHOOK_SECRET.encode(), headers[webhook.SIGNATURE_HEADER], raw)
    # The file: the same record, readable by the worker's user only; no transcript kept.
    (path,) = record_files(worker, room)
    assert json.loads(path.read_text())["answers"] == EXPECTED
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list((worker.data_dir / "intake").glob(f"*-{room}-*.transcript.jsonl"))
    log = worker.process.log_text()
    for words in ("John", "Smith", "1980", "former smoker", "headache"):
        assert words not in log, words  # no answer text in the worker's log
    MEASUREMENTS.append(
        f"intake ({pipeline}): greeting to complete record {took:.0f} s for "
        f"{len(EXPECTED)} items ({took / len(EXPECTED):.1f} s per item, consent and read-back "
        "included)"
    )


@pytest.mark.parametrize("pipeline", list(PIPELINES))
async def test_a_red_flag_mid_intake_stops_it_with_the_safety_message(
    livekit_server: LiveKitServer, worker: WorkerProcess, fakes: FakeProviders, pipeline: str
) -> None:
    lines = ["Yes.", "My name is John Smith.", "I have crushing chest pain."]
    async with receiving([200]) as hook:
        with scripted(fakes, pipeline, lines, MODEL_VALUES[:2]):
            async with room_with(
                livekit_server,
                worker.agent_name,
                {"caller": {}},
                dispatch_metadata=config(pipeline, hook.url),
                prefix=f"intake-flag-{pipeline}",
            ) as people:
                caller = people["caller"]
                caller.watch(protocol.INTAKE_RECORD)
                said_at = 0.0
                for line in lines:
                    await agent_quiet(caller, said_at)
                    await caller.speak(spoken(line))
                    assert caller.speech_end is not None
                    said_at = caller.speech_end
                heard_in = await caller.wait_for_agent_sound(timeout=10)
                flag = await caller.wait_for_agent_attribute(protocol.INTAKE_ESCALATION)
                await wait_for(
                    lambda: any(b["event"] == "intake.escalation" for b in hook.bodies),
                    "escalation",
                )
                await wait_for(
                    lambda: any(r["status"] == "escalated" for r in records(caller)),
                    "escalated record",
                )
    MEASUREMENTS.append(f"intake red flag → safety message ({pipeline}): {heard_in:.2f} s")
    assert flag == "chest_pain"
    escalation = next(b for b in hook.bodies if b["event"] == "intake.escalation")
    assert escalation == {
        "event": "intake.escalation",
        "rule": "chest_pain",
        "source": "words",
        "session": escalation["session"],
    }
    record = next(r for r in records(caller) if r["status"] == "escalated")
    assert record["escalation"]["rule"] == "chest_pain"
    assert record["answers"] == {"full_name": "John Smith"}
    assert heard_in <= 1.5, f"the safety message began {heard_in:.2f} s after the sentence"
    assert "chest pain" not in worker.process.log_text()
