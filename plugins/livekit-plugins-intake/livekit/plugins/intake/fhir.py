"""The record as FHIR: the ``Questionnaire`` and the ``QuestionnaireResponse`` that answers
it, built as fhir.resources R4B models (R4's two resources are unchanged in R4B), so each
document is validated by the library before it leaves."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fhir.resources.R4B.questionnaire import Questionnaire as FhirQuestionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from .engine import IntakeRecord, Status
from .prompts import localized
from .questionnaire import Condition, Item, Questionnaire, Value

OPTION_SYSTEM = "urn:intake:option"
"""Coding system of the questionnaires' options: their codes are local to a questionnaire."""

_TYPES = {
    "yes_no": "boolean",
    "number": "decimal",
    "date": "date",
    "choice": "choice",
    "multi_choice": "choice",
    "text": "string",
}
_STATUS = {
    Status.IN_PROGRESS: "in-progress",
    Status.COMPLETE: "completed",
    Status.PARTIAL: "stopped",
    Status.ESCALATED: "stopped",
}


def canonical(questionnaire: Questionnaire) -> str:
    return f"urn:intake:questionnaire:{questionnaire.id}"


def _coding(item: Item, code: str, language: str) -> dict[str, str]:
    option = next(o for o in item.options if o.code == code)
    return {"system": OPTION_SYSTEM, "code": code, "display": localized(option.text, language)}


def _enable_when(condition: Condition, source: Item, language: str) -> list[dict[str, Any]]:
    tests: list[tuple[str, Any]] = []
    if condition.equals is not None:
        tests.append(("=", condition.equals))
    tests += [("=", code) for code in condition.any_of or []]
    if condition.at_least is not None:
        tests.append((">=", condition.at_least))
    if condition.at_most is not None:
        tests.append(("<=", condition.at_most))
    out = []
    for operator, value in tests:
        out.append(
            {
                "question": condition.item,
                "operator": operator,
                **_answer(source, value, language, "answer"),
            }
        )
    return out


def _answer(item: Item, value: Any, language: str, prefix: str = "value") -> dict[str, Any]:
    match item.type:
        case "yes_no":
            return {f"{prefix}Boolean": bool(value)}
        case "number":
            if item.unit and prefix == "value":
                return {f"{prefix}Quantity": {"value": value, "unit": item.unit}}
            return {f"{prefix}Decimal": value}
        case "date":
            return {f"{prefix}Date": value}
        case "choice" | "multi_choice":
            return {f"{prefix}Coding": _coding(item, str(value), language)}
        case _:
            return {f"{prefix}String": str(value)}


def questionnaire(q: Questionnaire, language: str) -> FhirQuestionnaire:
    items = []
    for item in q.items:
        entry: dict[str, Any] = {
            "linkId": item.id,
            "text": localized(item.text, language),
            "type": _TYPES[item.type],
            "required": item.required,
        }
        if item.type == "multi_choice":
            entry["repeats"] = True
        if item.options:
            entry["answerOption"] = [
                {"valueCoding": _coding(item, o.code, language)} for o in item.options
            ]
        if item.enable_when is not None:
            source = q.item(item.enable_when.item)
            entry["enableWhen"] = _enable_when(item.enable_when, source, language)
            if len(entry["enableWhen"]) > 1:
                entry["enableBehavior"] = "any" if item.enable_when.any_of else "all"
        items.append(entry)
    return FhirQuestionnaire.model_validate(
        {
            "resourceType": "Questionnaire",
            "url": canonical(q),
            "version": q.version,
            "name": q.id,
            "title": localized(q.title, language),
            "status": "active",
            "language": language,
            "item": items,
        }
    )


def _answers(item: Item, value: Value, language: str) -> list[dict[str, Any]]:
    values = value if isinstance(value, list) else [value]
    return [_answer(item, v, language) for v in values]


def response(q: Questionnaire, record: IntakeRecord) -> QuestionnaireResponse:
    """The answers so far; an empty multi-choice answer ("none of these") has no answer
    entries, as FHIR has no empty answer."""
    items = []
    for item in q.items:
        if item.id not in record.answers:
            continue
        answers = _answers(item, record.answers[item.id], record.language)
        entry: dict[str, Any] = {"linkId": item.id, "text": localized(item.text, record.language)}
        if answers:
            entry["answer"] = answers
        items.append(entry)
    return QuestionnaireResponse.model_validate(
        {
            "resourceType": "QuestionnaireResponse",
            "questionnaire": f"{canonical(q)}|{q.version}",
            "status": _STATUS[record.status],
            "language": record.language,
            "authored": datetime.fromtimestamp(record.updated, UTC).isoformat(),
            "item": items,
        }
    )
