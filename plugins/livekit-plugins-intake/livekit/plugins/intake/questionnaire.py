"""A questionnaire is data: items with their type, text per language, follow-up conditions,
and the red-flag rules and safety message of the clinic that wrote it."""

from __future__ import annotations

import json
from importlib import resources
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ItemId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]
Text = Annotated[str, Field(min_length=1, max_length=500)]
Localized = Annotated[dict[Language, Text], Field(min_length=1, max_length=16)]
"""A text in each language the questionnaire is asked in: ``{"en": "...", "es": "..."}``."""

ItemType = Literal["yes_no", "number", "date", "choice", "multi_choice", "text"]
Value = bool | float | str | list[str]
"""A validated answer: yes/no → bool, number → float, date → ISO date, choice → option
code, multi_choice → option codes, text → the words said."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Strict):
    code: ItemId
    text: Localized


class Condition(_Strict):
    """Holds when the answer to ``item`` is ``equals``, one of ``any_of``, or within
    ``at_least``/``at_most``; a multi-choice answer holds when it includes one of them."""

    item: ItemId
    equals: bool | float | str | None = None
    any_of: list[str] | None = Field(default=None, max_length=32)
    at_least: float | None = None
    at_most: float | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        tests = [self.equals, self.any_of, self.at_least, self.at_most]
        if all(t is None for t in tests):
            raise ValueError("a condition needs equals, any_of, at_least or at_most")
        return self

    def holds(self, answers: dict[str, Value]) -> bool:
        if self.item not in answers:
            return False
        value = answers[self.item]
        if isinstance(value, list):
            wanted = {str(self.equals)} if self.equals is not None else set(self.any_of or [])
            return bool(wanted & set(value))
        if self.equals is not None and value != self.equals:
            return False
        if self.any_of is not None and value not in self.any_of:
            return False
        if isinstance(value, float) and not isinstance(value, bool):
            if self.at_least is not None and value < self.at_least:
                return False
            if self.at_most is not None and value > self.at_most:
                return False
        elif self.at_least is not None or self.at_most is not None:
            return False
        return True


class Item(_Strict):
    id: ItemId
    type: ItemType
    text: Localized = Field(description="The question as it is to be asked.")
    label: Localized = Field(description="A short name, read back in the summary.")
    required: bool = True
    unit: str | None = Field(default=None, max_length=20, description="Number: its unit.")
    minimum: float | None = None
    maximum: float | None = None
    options: list[Option] = Field(default_factory=list, max_length=32)
    allow_future: bool = Field(default=False, description="Date: may lie in the future.")
    enable_when: Condition | None = Field(
        default=None, description="A follow-up: asked only when this holds."
    )

    @model_validator(mode="after")
    def _options_fit_type(self) -> Item:
        choice = self.type in ("choice", "multi_choice")
        if choice and len(self.options) < 2:
            raise ValueError(f"item {self.id!r}: a {self.type} item needs two options or more")
        if not choice and self.options:
            raise ValueError(f"item {self.id!r}: only choice items have options")
        return self


class RedFlagRule(_Strict):
    """Fires on the caller's words (any phrase, not negated) or on an answer (``when``)."""

    id: ItemId
    phrases: dict[Language, list[Annotated[str, Field(min_length=2, max_length=80)]]] = Field(
        default_factory=dict
    )
    when: list[Condition] = Field(default_factory=list, max_length=16)


class Identity(_Strict):
    """Which items confirm who the caller is: asked first, right after consent."""

    items: list[ItemId] = Field(default_factory=list, max_length=4)


class Questionnaire(_Strict):
    id: ItemId
    version: str = Field(default="1", pattern=r"^[A-Za-z0-9._-]{1,20}$")
    title: Localized
    languages: list[Language] = Field(min_length=1, max_length=16)
    identity: Identity = Field(default_factory=Identity)
    items: list[Item] = Field(min_length=1, max_length=100)
    red_flags: list[RedFlagRule] = Field(default_factory=list, max_length=100)
    default_red_flags: bool = Field(
        default=True, description="Also apply the rules shipped with the plugin."
    )
    safety_message: Localized | None = Field(
        default=None, description="Said when a red flag fires; default: call emergency services."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Questionnaire:
        ids = [item.id for item in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError("item ids must be unique")
        known = set(ids)
        for item in self.items:
            for language in self.languages:
                if language not in item.text or language not in item.label:
                    raise ValueError(f"item {item.id!r} has no text or label in {language!r}")
            if item.enable_when and item.enable_when.item not in known:
                raise ValueError(f"item {item.id!r} follows an unknown item")
            if item.enable_when and ids.index(item.enable_when.item) >= ids.index(item.id):
                raise ValueError(f"item {item.id!r} must come after the item it follows")
        for rule in self.red_flags:
            for condition in rule.when:
                if condition.item not in known:
                    raise ValueError(f"red flag {rule.id!r} tests an unknown item")
        for item_id in self.identity.items:
            if item_id not in known:
                raise ValueError(f"identity names an unknown item {item_id!r}")
        return self

    def item(self, item_id: str) -> Item:
        return next(item for item in self.items if item.id == item_id)

    def rules(self) -> list[RedFlagRule]:
        shipped = default_red_flags() if self.default_red_flags else []
        own = {rule.id for rule in self.red_flags}
        return [*self.red_flags, *(rule for rule in shipped if rule.id not in own)]


def _data(name: str) -> str:
    return resources.files(__package__).joinpath(f"data/{name}").read_text("utf-8")


def default_red_flags() -> list[RedFlagRule]:
    """The shipped rules: chest pain, breathing, stroke, bleeding, fainting, anaphylaxis,
    self-harm, in English and Spanish."""
    return [RedFlagRule.model_validate(r) for r in json.loads(_data("red_flags.json"))]


def example_questionnaire() -> Questionnaire:
    """A pre-visit questionnaire in English and Spanish: name, date of birth, reason,
    pain and its level, allergies, medications, symptoms."""
    return Questionnaire.model_validate_json(_data("previsit.json"))
