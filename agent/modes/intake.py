"""The intake mode: Parley's room config → the livekit-plugins-intake plugin.

The plugin's engine owns the questionnaire; this module decides where its record goes: a
private file under ``$PARLEY_DATA_DIR/intake`` on every change (so a call that drops or a job
that dies leaves what was answered), the ``parley.intake.record`` topic, and the clinic's
webhook (the final record, and an escalation the moment a red flag fires). A caller who
refuses consent leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable
from dataclasses import replace
from pathlib import Path
from typing import Any

from livekit import rtc
from livekit.agents import room_io
from livekit.agents.types import NOT_GIVEN
from livekit.agents.voice.events import ConversationItemAddedEvent
from livekit.plugins import intake, participants, webhook
from pydantic import BaseModel, ValidationError

from .. import protocol
from ..background import spawn
from ..config.errors import ErrorCode, ParleyError
from ..config.models import CascadePipeline, RoomConfig
from ..privacy import scrub
from ..reports.publish import publish
from ..settings import WorkerSettings
from . import phone
from .chat import bounded_text_input
from .context import RoomContext
from .outputs import webhook_policy, writable_folder
from .session import open_session, start

logger = logging.getLogger("parley")

END_GRACE_S = 1.0
"""After the last words, before the agent leaves: the caller hears them to the end."""
FINISH_S = webhook.WebhookPolicy(b"").longest_s
"""The final record: every webhook attempt."""


class IntakeReport(BaseModel):
    """The ``parley.intake`` attribute: numbers and statuses, never an answer."""

    status: intake.Status
    answered: int
    missing: int
    escalation: str | None
    deliveries: list[webhook.Delivery]


def questionnaire_of(config: RoomConfig, settings: WorkerSettings) -> intake.Questionnaire:
    chosen = config.intake.questionnaire
    if isinstance(chosen, intake.Questionnaire):
        found = chosen
    elif chosen == "previsit":
        found = intake.example_questionnaire()
    else:
        path = settings.data_dir / "questionnaires" / f"{chosen}.json"
        try:
            found = intake.Questionnaire.model_validate_json(path.read_bytes())
        except OSError:
            raise ParleyError(
                ErrorCode.INVALID_VALUE,
                "intake.questionnaire",
                f"the worker knows no questionnaire {chosen!r}: use `previsit`, a name the "
                "operator installed, or an inline questionnaire.",
            ) from None
        except ValidationError as e:
            logger.warning("questionnaire %s is not valid: %s", chosen, e)
            raise ParleyError(
                ErrorCode.INTERNAL_ERROR,
                "intake.questionnaire",
                f"the worker's questionnaire {chosen!r} is not valid: the worker log says why.",
            ) from None
    if config.language not in found.languages:
        raise ParleyError(
            ErrorCode.INVALID_VALUE,
            "language",
            f"the questionnaire is written in {', '.join(found.languages)}, not "
            f"{config.language!r}: set language to one of them.",
        )
    return found


def model_asks(config: RoomConfig) -> bool:
    """A 135M offline model cannot call tools reliably: the engine asks and parses."""
    if config.intake.model_asks is not None:
        return config.intake.model_asks
    p = config.pipeline
    return not (isinstance(p, CascadePipeline) and p.llm.provider == "offline")


class Outputs:
    """Where one call's record goes, each time it changes."""

    def __init__(self, room: RoomContext, questionnaire: intake.Questionnaire) -> None:
        self._room = room
        self._questionnaire = questionnaire
        folder = writable_folder(room.settings.data_dir / "intake", "intake records")
        self._stem = folder / f"{room.file_stem}-{room.job.job.id}"
        url = room.config.intake.webhook_url
        self._url = str(url) if url else None
        self._policy = webhook_policy(room.settings, self._url, "intake.webhook_url")
        self._deliveries: list[webhook.Delivery] = []
        self._latest: intake.IntakeRecord | None = None
        self._text = ""
        self._finished = False
        self._handoff: dict[str, str] | None = None

    def _path(self, suffix: str) -> Path:
        return self._stem.with_name(f"{self._stem.name}.{suffix}")

    def document(self, record: intake.IntakeRecord) -> dict[str, Any]:
        fhir = intake.fhir.response(self._questionnaire, record)
        document = {**record.model_dump(mode="json"), "fhir": fhir.model_dump(mode="json")}
        if self._handoff is not None:
            document["transfer"] = self._handoff
        return document

    async def handed_over(self, transfer: Awaitable[None]) -> bool:
        """Runs the transfer to a person and records how it went (``transfer`` in the
        record: the target and ``transferred`` or ``failed``)."""
        to = self._room.config.intake.transfer_to or ""
        try:
            await transfer
        except Exception as e:  # the SIP service or the target refused: the caller is told
            logger.warning("intake: the transfer failed (%s: %s)", type(e).__name__, scrub(str(e)))
            self._handoff = {"to": to, "status": "failed"}
        else:
            self._handoff = {"to": to, "status": "transferred"}
        if self._latest is not None:
            self.changed(self._latest)
        return self._handoff["status"] == "transferred"

    def changed(self, record: intake.IntakeRecord) -> None:
        if record.consent is not True and record.escalation is None:
            return  # nothing is kept without consent; an escalation is kept regardless
        self._latest = record
        self._text = json.dumps(self.document(record))
        participants.write_private(self._path("intake.json"), self._text)
        self._send()
        self._report()

    def _send(self, to: list[str] | None = None) -> None:
        room = self._room.room
        if room.isconnected() and self._text:
            sent = room.local_participant.send_text(
                self._text, topic=protocol.INTAKE_RECORD, destination_identities=to
            )
            spawn(sent)

    def joined(self, participant: rtc.RemoteParticipant) -> None:
        """Someone who joins later (a clinician's page) gets the record so far."""
        self._send([participant.identity])

    def escalated(self, flag: intake.RedFlag) -> None:
        room = self._room.room
        if room.isconnected():
            spawn(room.local_participant.set_attributes({protocol.INTAKE_ESCALATION: flag.rule}))
        spawn(
            self._deliver({"event": "intake.escalation", "rule": flag.rule, "source": flag.source})
        )

    async def finish(self) -> None:
        """The final record to the webhook, once: the FHIR documents with it."""
        if self._latest is None or self._finished:
            return
        self._finished = True
        fhir_questionnaire = intake.fhir.questionnaire(self._questionnaire, self._latest.language)
        participants.write_private(
            self._path("questionnaire.json"), fhir_questionnaire.model_dump_json()
        )
        payload = {
            "event": "intake.record",
            "record": self.document(self._latest),
            "questionnaire": fhir_questionnaire.model_dump(mode="json"),
        }
        await self._deliver(payload)

    async def _deliver(self, payload: dict[str, Any]) -> None:
        if self._url is None or self._policy is None:
            return
        payload = {**payload, "session": self._room.job.job.id}
        self._deliveries.append(await webhook.post(self._url, payload, self._policy))
        self._report()

    def _report(self) -> None:
        if self._latest is None:
            return
        report = IntakeReport(
            status=self._latest.status,
            answered=len(self._latest.answers),
            missing=len(self._latest.missing),
            escalation=self._latest.escalation.rule if self._latest.escalation else None,
            deliveries=self._deliveries,
        )
        publish(self._room.room, protocol.INTAKE, report)

    def keep_transcript(self, ev: ConversationItemAddedEvent) -> None:
        text = getattr(ev.item, "text_content", None)
        if text:
            line = json.dumps({"role": getattr(ev.item, "role", ""), "text": text})
            participants.append_private(self._path("transcript.jsonl"), line)


async def first_caller(room: rtc.Room) -> rtc.RemoteParticipant:
    """The participant the agent talks with: the first human who is not a clinician watching
    the record (a clinician's page may join before the caller's does)."""

    def caller() -> rtc.RemoteParticipant | None:
        return next(
            (
                p
                for p in participants.humans(room)
                if p.attributes.get(protocol.ROLE) != protocol.CLINICIAN
            ),
            None,
        )

    arrived = asyncio.Event()
    room.on("participant_connected", lambda _: arrived.set())
    while (found := caller()) is None:
        await arrived.wait()
        arrived.clear()
    return found


async def run(room: RoomContext) -> None:
    questionnaire = questionnaire_of(room.config, room.settings)
    caller = await first_caller(room.room)
    on_phone = phone.is_phone(caller)
    if on_phone:
        phone.protect(caller)
        room = replace(room, config=phone.for_line(room.config))
    config = room.config
    handoff = on_phone and config.intake.transfer_to is not None
    outputs = Outputs(room, questionnaire)
    # Whisper base, not tiny.en: the answers are the record, and tiny.en heard "March
    # third, nineteen eighty" through the room as "Mark III, 1980" (docs/offline.md).
    session = await open_session(room, accurate=True)
    engine = intake.IntakeEngine(
        questionnaire,
        config.language,
        safety_message=config.intake.safety_message,
        keypad=on_phone,
        handoff=handoff,
    )

    async def end(record: intake.IntakeRecord) -> None:
        if handoff and record.status is intake.Status.ESCALATED:
            assert config.intake.transfer_to is not None
            if await outputs.handed_over(
                phone.transfer(room.job, caller, config.intake.transfer_to)
            ):
                await outputs.finish()
                room.job.shutdown(reason="intake escalated: transferred to a person")
                return
            await agent.say_last(engine.safety_message)
        await outputs.finish()
        await asyncio.sleep(END_GRACE_S)
        if on_phone:  # the agent hangs up; the line is not left open
            await phone.hang_up(room.job, caller)
        room.job.shutdown(reason=f"intake ended: {record.status}")

    hooks = intake.Hooks(
        on_change=outputs.changed,
        on_red_flag=outputs.escalated,
        on_end=lambda record: spawn(end(record)),
    )
    agent = intake.IntakeAgent(
        engine,
        use_model=model_asks(config),
        hooks=hooks,
        instructions=config.instructions,
        # livekit-sip answers once the agent's track is up: the questions wait for that.
        start_when=phone.answered(room.room, caller) if on_phone else None,
    )

    async def on_shutdown() -> None:  # hung up, or the job is ending: keep what was answered
        if engine.step != "ended":
            engine.end()
            outputs.changed(engine.record())
        await outputs.finish()

    room.job.add_shutdown_callback(on_shutdown)
    room.room.on("participant_connected", outputs.joined)
    if config.intake.keep_transcript:
        session.on("conversation_item_added", outputs.keep_transcript)
    if on_phone:
        phone.on_keys(room.room, caller, agent.press)
    options = room_io.RoomOptions(
        text_input=bounded_text_input(),
        participant_identity=caller.identity,
        audio_input=phone.audio_input() if on_phone else NOT_GIVEN,
    )
    await start(room, session, agent, options)
