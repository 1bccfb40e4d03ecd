"""The deterministic engine: it owns the order (consent, identity, the items and their
follow-ups, the read-back), what is still missing, validation and the record. A language
model only phrases and listens; without one, the engine asks the questions as written and
parses the answers itself (``hear``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel

from .keypad import Keys, meaning
from .parse import parse, says, yes_no
from .prompts import again, keys, localized, prompts, safety, spoken
from .questionnaire import Item, Questionnaire, Value
from .redflags import RedFlag, RedFlagScreen
from .words import normalize

CONSENT = "consent"
CONFIRMED = "confirmed"
"""Reserved item ids: the caller's consent, and their confirmation of the read-back."""


class Status(StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"
    PARTIAL = "partial"
    """Ended before the read-back was confirmed: what was answered is kept."""
    ESCALATED = "escalated"


class Escalation(BaseModel):
    rule: str
    source: str
    at: float
    handoff: bool = False
    """The caller was told they are being handed to a person (the host transfers them)."""


class IntakeRecord(BaseModel):
    questionnaire: str
    version: str
    language: str
    status: Status
    consent: bool | None
    answers: dict[str, Value]
    missing: list[str]
    escalation: Escalation | None = None
    started: float
    updated: float


Step = Literal["consent", "item", "readback", "which", "ended"]


@dataclass(frozen=True)
class Reply:
    """What the engine makes of an answer: what to say next, and whether the call ends."""

    say: str
    accepted: bool
    ends: bool = False
    red_flag: RedFlag | None = None


class IntakeEngine:
    def __init__(
        self,
        questionnaire: Questionnaire,
        language: str,
        *,
        safety_message: str | None = None,
        today: date | None = None,
        keypad: bool = False,
        handoff: bool = False,
    ) -> None:
        """``keypad``: the caller has one (a phone): each question says how to type the
        answer, and ``press`` takes the keys. ``handoff``: after a red flag the host hands
        the caller to a person, so the caller hears that instead of the safety message."""
        self.questionnaire = questionnaire
        self.language = language
        self.safety_message = safety(questionnaire, language, safety_message)
        self.handoff = handoff
        self.escalation_message = prompts(language).transfer if handoff else self.safety_message
        """What the caller hears the moment a red flag fires."""
        self._today = today
        self._screen = RedFlagScreen(questionnaire.rules())
        self.answers: dict[str, Value] = {}
        self.consent: bool | None = None
        self.confirmed = False
        self.escalation: Escalation | None = None
        self.ended = False
        self._choosing = False
        self.keypad = keypad
        self._keys = Keys()
        self._started = self._updated = time.time()

    # --- where the intake stands ---------------------------------------------------------

    def applicable(self, item: Item) -> bool:
        return item.enable_when is None or item.enable_when.holds(self.answers)

    def _ordered(self) -> list[Item]:
        first = self.questionnaire.identity.items
        by_id = {item.id: item for item in self.questionnaire.items}
        rest = [item for item in self.questionnaire.items if item.id not in first]
        return [by_id[i] for i in first] + rest

    def unanswered(self) -> list[Item]:
        return [i for i in self._ordered() if self.applicable(i) and i.id not in self.answers]

    def missing(self) -> list[str]:
        """Required items that apply and have no answer yet."""
        return [item.id for item in self.unanswered() if item.required]

    @property
    def status(self) -> Status:
        if self.escalation is not None:
            return Status.ESCALATED
        if self.confirmed:
            return Status.COMPLETE
        return Status.PARTIAL if self.ended else Status.IN_PROGRESS

    @property
    def step(self) -> Step:
        if self.ended or self.escalation is not None or self.confirmed:
            return "ended"
        if self.consent is None:
            return "consent"
        if self.unanswered():
            return "item"
        return "which" if self._choosing else "readback"

    def current(self) -> Item | None:
        if self.step != "item":
            return None
        return self.unanswered()[0]

    def prompt(self) -> str:
        """What to ask now, as written (with how to type the answer, on a keypad)."""
        asked = self._asked()
        if not self.keypad or not asked or self.step == "which":
            return asked
        kind, item, _ = self._asking()
        return f"{asked} {keys(kind, item, self.language)}"

    def _asking(self) -> tuple[str, Item | None, str]:
        """The type of answer asked for now, its item, and the id answers go to."""
        match self.step:
            case "consent":
                return "yes_no", None, CONSENT
            case "readback":
                return "yes_no", None, CONFIRMED
            case "item":
                item = self.current()
                assert item is not None
                return item.type, item, item.id
        return "text", None, ""

    def _asked(self) -> str:
        p = prompts(self.language)
        match self.step:
            case "consent":
                title = localized(self.questionnaire.title, self.language)
                return p.intro.format(title=title)
            case "item":
                item = self.current()
                assert item is not None
                return localized(item.text, self.language)
            case "readback":
                return p.readback.format(summary=self.summary())
            case "which":
                return p.which
            case "ended":
                return p.closing if self.confirmed else ""

    def summary(self) -> str:
        lines = [
            f"{localized(item.label, self.language)}: "
            f"{spoken(item, self.answers.get(item.id), self.language)}"
            for item in self._ordered()
            if self.applicable(item)
        ]
        return ". ".join(lines)

    def record(self) -> IntakeRecord:
        return IntakeRecord(
            questionnaire=self.questionnaire.id,
            version=self.questionnaire.version,
            language=self.language,
            status=self.status,
            consent=self.consent,
            answers=dict(self.answers),
            missing=self.missing(),
            escalation=self.escalation,
            started=self._started,
            updated=self._updated,
        )

    # --- what changes it -----------------------------------------------------------------

    def screen(self, words: str) -> RedFlag | None:
        """Screens the caller's words; a rule that fires escalates the intake."""
        if self.escalation is not None:
            return None
        flag = self._screen.words(words)
        if flag is not None:
            self.escalate(flag)
        return flag

    def escalate(self, flag: RedFlag) -> None:
        self.escalation = Escalation(
            rule=flag.rule, source=flag.source, at=time.time(), handoff=self.handoff
        )
        self._touch()

    def end(self) -> None:
        """The call is over: an intake not yet confirmed stays ``partial``."""
        self.ended = True
        self._touch()

    def hear(self, words: str) -> Reply:
        """The path without a capable model: screen the words, then read them as the answer
        to what was asked."""
        if self.step == "ended":
            return Reply(say="", accepted=False, ends=True)
        if (flag := self.screen(words)) is not None:
            return Reply(say=self.escalation_message, accepted=False, ends=True, red_flag=flag)
        match self.step:
            case "consent":
                return self.answer(CONSENT, words)
            case "readback":
                return self.answer(CONFIRMED, words)
            case "which":
                return self._choose(words)
            case _:
                item = self.current()
                assert item is not None
                return self.answer(item.id, words)

    def press(self, key: str) -> Reply | None:
        """A key the caller pressed (DTMF ``0``-``9``, ``*``, ``#``): ``None`` while an
        entry is still being typed, else the reply to the complete entry."""
        if self.step == "ended":
            return Reply(say="", accepted=False, ends=True)
        kind, item, target = self._asking()
        entry = self._keys.press(key, kind, len(item.options) if item else 0)
        if entry is None:
            return None
        if entry == "":
            return Reply(say=self.prompt(), accepted=False)
        value = meaning(entry, kind, item, self.language).value
        if value is None:
            return Reply(say=f"{keys(kind, item, self.language)} {self._asked()}", accepted=False)
        return self.answer(target, value)

    def answer(self, item_id: str, value: str) -> Reply:
        """Validates and stores one answer (the model's tool and ``hear`` both come here);
        the reply says what to ask next, or what is needed."""
        if self.step == "ended":
            return Reply(say="", accepted=False, ends=True)
        if item_id == CONSENT:
            return self._consent(value)
        if self.consent is not True:
            return Reply(say=prompts(self.language).consent_again, accepted=False)
        if item_id == CONFIRMED:
            return self._confirm(value)
        item = next((i for i in self.questionnaire.items if i.id == item_id), None)
        if item is None or not self.applicable(item):
            return Reply(say=self.prompt(), accepted=False)
        parsed = parse(value, self.language, item, self._today or date.today())
        if parsed.problem is not None:
            return Reply(say=again(item, parsed.problem, self.language), accepted=False)
        assert parsed.value is not None
        self.answers[item.id] = parsed.value
        self._choosing = False  # the model may give the corrected value without naming it
        self._drop_inapplicable()
        self._touch()
        if (flag := self._screen.answers(self.answers)) is not None:
            self.escalate(flag)
            return Reply(say=self.escalation_message, accepted=True, ends=True, red_flag=flag)
        return Reply(say=self.prompt(), accepted=True)

    def _consent(self, value: str) -> Reply:
        parsed = yes_no(value, self.language)
        if parsed.value is None:
            return Reply(say=prompts(self.language).consent_again, accepted=False)
        self.consent = bool(parsed.value)
        self._touch()
        if not self.consent:
            self.ended = True
            return Reply(say=prompts(self.language).declined, accepted=True, ends=True)
        return Reply(say=self.prompt(), accepted=True)

    def _confirm(self, value: str) -> Reply:
        if self.unanswered():
            return Reply(say=self.prompt(), accepted=False)
        parsed = yes_no(value, self.language)
        if parsed.value is None:
            need = prompts(self.language).again["yes_no"]
            return Reply(say=f"{need} {self.prompt()}", accepted=False)
        if parsed.value:
            self.confirmed = True
            self._touch()
            return Reply(say=prompts(self.language).closing, accepted=True, ends=True)
        self._choosing = True
        return Reply(say=prompts(self.language).which, accepted=True)

    def _choose(self, words: str) -> Reply:
        """Which answer the caller wants to change: the label said whole, else the one that
        shares the most words with what was said."""
        text = normalize(words)
        scored = []
        for item in self._ordered():
            label = normalize(localized(item.label, self.language))
            if self.applicable(item):
                scored.append((says(text, label), _shared_words(text, label), item))
        best = max(scored, key=lambda s: (s[0], s[1]), default=None)
        if best is not None and (best[0] or best[1]):
            self._choosing = False
            self.answers.pop(best[2].id, None)  # asked again next, being the only one missing
            return Reply(say=self.prompt(), accepted=True)
        example = localized(self._ordered()[0].label, self.language)
        return Reply(say=prompts(self.language).which_again.format(label=example), accepted=False)

    def _drop_inapplicable(self) -> None:
        """A corrected answer can turn a follow-up off: its answer no longer applies."""
        for item in self.questionnaire.items:
            if item.id in self.answers and not self.applicable(item):
                del self.answers[item.id]

    def _touch(self) -> None:
        self._updated = time.time()
        self._keys.typed = ""  # keys typed for the question before do not carry over


_STOP_WORDS = frozenset(
    ["the", "a", "an", "my", "of", "to", "de", "la", "el", "los", "las", "mi", "su", "del", "for"]
)


def _shared_words(text: str, label: str) -> int:
    words = set(text.replace(",", " ").replace(".", " ").split()) - _STOP_WORDS
    return len(words & (set(label.split()) - _STOP_WORDS))
