"""What the agent says around the questionnaire's own questions, per language: the
disclosure and consent, asking again, the read-back, the goodbyes, the safety message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .parse import Problem
from .questionnaire import Item, Questionnaire, Value
from .words import base


@dataclass(frozen=True)
class Prompts:
    intro: str
    consent_again: str
    declined: str
    again: dict[Problem, str]
    readback: str
    which: str
    which_again: str
    closing: str
    safety: str
    transfer: str
    yes: str
    no: str
    none: str
    unanswered: str
    keys: dict[str, str]
    """How to answer on a phone's keypad, per item type (``text``: it must be said)."""


PROMPTS: dict[str, Prompts] = {
    "en": Prompts(
        intro="Hello. I am an automated assistant, not a person, helping with the {title}. "
        "I will ask you a few questions before your visit. May I record your answers for "
        "your care team? Please say yes or no.",
        consent_again="Please say yes or no: may I record your answers for your care team?",
        declined="I understand. Nothing has been recorded. Your care team will ask you at "
        "your visit. Goodbye.",
        again={
            "yes_no": "Please answer yes or no.",
            "number": "Please say a number.",
            "range": "Please say a number from {minimum} to {maximum}.",
            "date": "Please say the day, the month and the year.",
            "future": "That date is in the future. Please say it again.",
            "choice": "Please say one of these: {options}.",
            "empty": "Sorry, I did not catch that.",
        },
        readback="Thank you. Here is what I have. {summary}. Is that all correct?",
        which="Which answer should I change?",
        which_again="Please say the name of the answer to change, for example {label}.",
        closing="Thank you. Your answers are with your care team. Goodbye.",
        safety="What you describe may be a medical emergency. Please hang up and call your "
        "local emergency number, 911 in the United States, or go to the nearest emergency "
        "room now.",
        transfer="What you describe needs a person right away. I am transferring you to "
        "your care team now. Please stay on the line.",
        yes="yes",
        no="no",
        none="none",
        unanswered="not answered",
        keys={
            "yes_no": "Or press 1 for yes, 2 for no.",
            "number": "Or type the number, then the pound key.",
            "date": "Or type the month, the day and the year as eight digits, then pound.",
            "choice": "Or press {options}.",
            "multi_choice": "Or type all that apply, then pound: {options}, 0 for none.",
            "text": "Please say your answer; it cannot be typed.",
        },
    ),
    "es": Prompts(
        intro="Hola. Soy un asistente automático, no una persona, para el {title}. Le haré "
        "unas preguntas antes de su consulta. ¿Puedo registrar sus respuestas para su equipo "
        "médico? Por favor, diga sí o no.",
        consent_again="Por favor, diga sí o no: ¿puedo registrar sus respuestas?",
        declined="Entendido. No se ha registrado nada. Su equipo médico se lo preguntará en "
        "la consulta. Adiós.",
        again={
            "yes_no": "Por favor, responda sí o no.",
            "number": "Por favor, diga un número.",
            "range": "Por favor, diga un número del {minimum} al {maximum}.",
            "date": "Por favor, diga el día, el mes y el año.",
            "future": "Esa fecha es futura. Por favor, dígala otra vez.",
            "choice": "Por favor, diga una de estas opciones: {options}.",
            "empty": "Perdone, no le he entendido.",
        },
        readback="Gracias. Esto es lo que tengo. {summary}. ¿Es todo correcto?",
        which="¿Qué respuesta debo cambiar?",
        which_again="Por favor, diga el nombre de la respuesta que quiere cambiar, por "
        "ejemplo {label}.",
        closing="Gracias. Sus respuestas ya están con su equipo médico. Adiós.",
        safety="Lo que describe puede ser una emergencia médica. Por favor, cuelgue y llame "
        "ahora al número de emergencias, el 112 o el 911, o vaya a urgencias.",
        transfer="Lo que describe necesita una persona ahora mismo. Le paso con su equipo "
        "médico. Por favor, no cuelgue.",
        yes="sí",
        no="no",
        none="ninguno",
        unanswered="sin respuesta",
        keys={
            "yes_no": "O pulse 1 para sí, 2 para no.",
            "number": "O marque el número y después la tecla almohadilla.",
            "date": "O marque el día, el mes y el año con ocho cifras y después almohadilla.",
            "choice": "O pulse {options}.",
            "multi_choice": "O marque todas las que correspondan y almohadilla: {options}, "
            "0 para ninguna.",
            "text": "Por favor, diga su respuesta; no se puede marcar.",
        },
    ),
}


def prompts(language: str) -> Prompts:
    return PROMPTS[base(language)]


def localized(texts: dict[str, str], language: str) -> str:
    """The text in the call's language, else in its base language, else the first one."""
    return texts.get(language) or texts.get(base(language)) or next(iter(texts.values()))


def _number(value: float) -> str:
    return f"{value:g}"


def spoken(item: Item, value: Value | None, language: str) -> str:
    p = prompts(language)
    if value is None:
        return p.unanswered
    if isinstance(value, bool):
        return p.yes if value else p.no
    if isinstance(value, float):
        return f"{_number(value)} {item.unit}" if item.unit else _number(value)
    if isinstance(value, list):
        names = [localized(o.text, language) for o in item.options if o.code in value]
        return ", ".join(names) or p.none
    if item.type == "date":
        return date.fromisoformat(value).strftime(
            "%d/%m/%Y" if base(language) == "es" else "%B %d, %Y"
        )
    if item.type == "choice":
        return next(localized(o.text, language) for o in item.options if o.code == value)
    return value


def again(item: Item, problem: Problem, language: str) -> str:
    """Asks the item again, saying what is needed."""
    options = ", ".join(localized(o.text, language) for o in item.options)
    need = (
        prompts(language)
        .again[problem]
        .format(
            minimum=_number(item.minimum or 0), maximum=_number(item.maximum or 0), options=options
        )
    )
    return f"{need} {localized(item.text, language)}"


def keys(kind: str, item: Item | None, language: str) -> str:
    """How to answer a question of type ``kind`` on the keypad."""
    per = " para " if base(language) == "es" else " for "
    options = ", ".join(
        f"{n}{per}{localized(o.text, language)}"
        for n, o in enumerate(item.options if item else [], 1)
    )
    return prompts(language).keys[kind].format(options=options)


def safety(questionnaire: Questionnaire, language: str, override: str | None = None) -> str:
    if override:
        return override
    if questionnaire.safety_message:
        return localized(questionnaire.safety_message, language)
    return prompts(language).safety
