"""A caller of the intake mode, shared by its tests and its benchmark: says its lines one by
one once the agent's question has ended, and keeps what the agent published.

With the fake providers, nothing is understood: ``scripted`` tells them what they "hear" and
which value the "model" hands the engine with ``record_answer``; the offline cascade hears
the speech itself."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from livekit.plugins import intake

from agent import protocol

from .fakes import FakeProviders
from .livekit_server import LiveKitServer
from .participant import Participant, wait_for
from .recordings import spoken
from .rooms import room_with
from .worker import WorkerProcess

OFFLINE: dict[str, Any] = {
    "kind": "cascade",
    "stt": {"provider": "offline"},
    "llm": {"provider": "offline"},
    "tts": {"provider": "offline"},
}
PIPELINES: dict[str, dict[str, Any]] = {
    "offline-cascade": OFFLINE,
    "openai-realtime": {"kind": "realtime", "provider": "openai"},
    "openai-cascade": {"kind": "cascade"},
    "google-realtime": {"kind": "realtime", "provider": "google"},
}
SIX = ("full_name", "birth_date", "pain", "pain_level", "smoking", "symptoms")
QUIET_S = 1.0
"""Silence from the agent that means it finished its question."""


@dataclass(frozen=True)
class Script:
    """One caller: what they say, what a capable model records for each line (an empty
    item: that line records nothing), and the record the call should end with."""

    name: str
    lines: list[str]
    values: list[tuple[str, str]]
    answers: dict[str, Any]
    status: str = "complete"
    rule: str | None = None


CALLERS = [
    Script(
        "plain",
        [
            "Yes, you may.",
            "My name is John Smith.",
            "March third, nineteen eighty.",
            "Yes.",
            "Um, about a seven.",
            "I am a former smoker.",
            "I have a headache and a cough.",
            "Yes, that is all correct.",
        ],
        [
            ("consent", "yes"),
            ("full_name", "John Smith"),
            ("birth_date", "1980-03-03"),
            ("pain", "yes"),
            ("pain_level", "7"),
            ("smoking", "former smoker"),
            ("symptoms", "cough, headache"),
            ("confirmed", "yes"),
        ],
        {
            "full_name": "John Smith",
            "birth_date": "1980-03-03",
            "pain": True,
            "pain_level": 7.0,
            "smoking": "former",
            "symptoms": ["cough", "headache"],
        },
    ),
    Script(
        "hesitant",
        [
            "Uh, yes, that's fine.",
            "Um, my name is Mary Jones.",
            "The twelfth of May, two thousand one.",
            "No.",
            "Uh, I think I'm a current smoker.",
            "Nope, none of those.",
            "Yes.",
        ],
        [
            ("consent", "yes"),
            ("full_name", "Mary Jones"),
            ("birth_date", "2001-05-12"),
            ("pain", "no"),
            ("smoking", "current smoker"),
            ("symptoms", "none"),
            ("confirmed", "yes"),
        ],
        {
            "full_name": "Mary Jones",
            "birth_date": "2001-05-12",
            "pain": False,
            "smoking": "current",
            "symptoms": [],
        },
    ),
    Script(
        "corrects",
        [
            "Yes.",
            "Peter Brown.",
            "June first, nineteen seventy five.",
            "Yes.",
            "Five, sorry, I mean six.",
            "Never.",
            "A fever.",
            "No.",
            "The smoking.",
            "I am a former smoker.",
            "Yes.",
        ],
        [
            ("consent", "yes"),
            ("full_name", "Peter Brown"),
            ("birth_date", "1975-06-01"),
            ("pain", "yes"),
            ("pain_level", "6"),
            ("smoking", "never"),
            ("symptoms", "fever"),
            ("confirmed", "no"),
            ("", ""),  # "which one?": the model asks for the new value
            ("smoking", "former smoker"),
            ("confirmed", "yes"),
        ],
        {
            "full_name": "Peter Brown",
            "birth_date": "1975-06-01",
            "pain": True,
            "pain_level": 6.0,
            "smoking": "former",
            "symptoms": ["fever"],
        },
    ),
]
RED_FLAGS = [
    Script(
        "chest-pain",
        ["Yes.", "My name is John Smith.", "I have crushing chest pain."],
        [("consent", "yes"), ("full_name", "John Smith")],
        {"full_name": "John Smith"},
        status="escalated",
        rule="chest_pain",
    ),
    Script(
        "breathing",
        ["Yes.", "Uh, I can't breathe."],
        [("consent", "yes")],
        {},
        status="escalated",
        rule="trouble_breathing",
    ),
]


def cut_to(items: Collection[str], *, own_red_flags: bool = True) -> dict[str, Any]:
    """The packaged questionnaire with only ``items`` (identity items among them), inline;
    ``own_red_flags=False``: without the questionnaire's own rules."""
    data = intake.example_questionnaire().model_dump(mode="json", exclude_none=True)
    data["items"] = [i for i in data["items"] if i["id"] in items]
    data["identity"]["items"] = [i for i in data["identity"]["items"] if i in items]
    if not own_red_flags:
        data["red_flags"] = []
    return data


def six_items() -> dict[str, Any]:
    """The packaged questionnaire cut to six items (a follow-up among them), inline."""
    return cut_to(SIX, own_red_flags=False)


def config(pipeline: str, hook_url: str) -> dict[str, Any]:
    return {
        "mode": "intake",
        "pipeline": PIPELINES[pipeline],
        "intake": {"questionnaire": six_items(), "webhook_url": hook_url},
    }


@contextmanager
def scripted(fakes: FakeProviders, pipeline: str, script: Script) -> Iterator[None]:
    """The fakes hear the script's lines and the model records its values in order; the
    offline cascade needs no script."""
    if pipeline == "offline-cascade":
        yield
        return
    calls = [
        {"name": "record_answer" if item else "", "arguments": {"item": item, "value": value}}
        for item, value in script.values
    ]
    fakes.configure(transcripts=script.lines, tool_calls=calls)
    try:
        yield
    finally:
        fakes.configure(transcripts=[], tool_calls=[])


def records(caller: Participant) -> list[dict[str, Any]]:
    return [json.loads(t.text) for t in caller.texts.get(protocol.INTAKE_RECORD, [])]


@dataclass
class Call:
    caller: Participant
    room: str
    v2v_s: list[float] = field(default_factory=list)
    """Per line: the end of the caller's words → the agent's first sound since they began
    (negative when the agent spoke over them: a red flag heard mid-sentence)."""
    took_s: float = 0.0
    """The agent's first words → the record that ended the call."""
    attributes: dict[str, str] = field(default_factory=dict)
    """The agent's attributes when the call ended."""
    astray: str | None = None
    """What the caller waited for in vain, if the call did not end as scripted."""

    @property
    def records(self) -> list[dict[str, Any]]:
        return records(self.caller)

    def item_times(self) -> list[float]:
        """Seconds between the records that gained an answer (consent's record first)."""
        received = self.caller.texts.get(protocol.INTAKE_RECORD, [])
        times, count = [], 0
        for message in received:
            answers = len(json.loads(message.text)["answers"])
            if answers > count:
                times.append(message.received)
                count = answers
        return [b - a for a, b in pairwise(times)]


async def call(
    server: LiveKitServer,
    worker: WorkerProcess,
    room_config: dict[str, Any],
    script: Script,
    *,
    voice: Callable[[str], Path] = spoken,
    prefix: str = "intake",
) -> Call:
    """Dispatches the agent with ``room_config``, says the script's lines in ``voice`` and
    returns once a record with the script's final status and (at least) its answers' items
    is published, or as soon as the call goes astray (``Call.astray``)."""

    def ends(record: dict[str, Any]) -> bool:
        return record["status"] == script.status and set(script.answers) <= set(record["answers"])

    async with room_with(
        server, worker.agent_name, {"caller": {}}, dispatch_metadata=room_config, prefix=prefix
    ) as people:
        caller = people["caller"]
        caller.watch(protocol.INTAKE_RECORD)
        result = Call(caller, caller.room.name or "")
        try:
            said_at = 0.0
            for line in script.lines:
                await caller.wait_for_agent_quiet(said_at, QUIET_S)
                await caller.speak(voice(line))
                assert caller.speech_start is not None and caller.speech_end is not None
                started, said_at = caller.speech_start, caller.speech_end
                await wait_for(lambda at=started: caller.agent_sound_after(at), "an answer", 60)
                answered = caller.agent_sound_after(started)
                assert answered is not None
                result.v2v_s.append(answered - said_at)
            await wait_for(lambda: any(ends(r) for r in records(caller)), "the ending record")
        except TimeoutError as e:  # a line misheard and asked again: the script went astray
            result.astray = str(e)
            return result
        ending = next(t for t in caller.texts[protocol.INTAKE_RECORD] if ends(json.loads(t.text)))
        result.took_s = ending.received - caller.agent_sound_times[0]
        if json.loads(ending.text)["escalation"]:  # the attribute follows the record
            await caller.wait_for_agent_attribute(protocol.INTAKE_ESCALATION, timeout=10)
        agent = caller.agent()
        result.attributes = dict(agent.attributes) if agent else {}
    return result
