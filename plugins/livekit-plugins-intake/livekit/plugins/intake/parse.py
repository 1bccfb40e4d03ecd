"""Answers as people say them, parsed into an item's value: yes/no words, numbers said as
words or digits, dates, choices by name or number, in English and Spanish. The same parsers
read what a language model hands the engine, so both paths validate alike."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from dateparser.search import search_dates
from text_to_num import alpha2digit

from .questionnaire import Item, Value
from .words import after_correction, base, lexicon, normalize, tokens, without_fillers

Problem = Literal["yes_no", "number", "range", "date", "future", "choice", "empty"]
"""Why an answer was not accepted: the agent asks again, saying what it needs."""


@dataclass(frozen=True)
class Parsed:
    value: Value | None = None
    problem: Problem | None = None


_CONTRACTIONS = {
    r"\bdo not\b": "dont",
    r"\bdoes not\b": "doesnt",
    r"\bdid not\b": "didnt",
    r"\bhave not\b": "havent",
    r"\bhas not\b": "hasnt",
    r"\bis not\b": "isnt",
    r"\bare not\b": "arent",
    r"\bcan not\b|\bcannot\b": "cant",
    r"\bwill not\b": "wont",
}


def joined(text: str) -> str:
    """Normalized, with contractions joined: "I do not" reads as "i dont"."""
    text = normalize(text)
    for pattern, contraction in _CONTRACTIONS.items():
        text = re.sub(pattern, contraction, text)
    return text


def plain(text: str, language: str) -> str:
    """What the answer is read from: the joined text after any self-correction."""
    return after_correction(joined(text), language)


def says(text: str, phrase: str) -> bool:
    return re.search(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", text) is not None


def yes_no(text: str, language: str) -> Parsed:
    t = plain(text, language)
    lex = lexicon(language)
    if t in ("true", "false"):
        return Parsed(t == "true")
    if any(re.search(rf"\b{re.escape(p)}", t) for p in lex.unsure):
        return Parsed(problem="yes_no")
    yes = any(says(t, p) for p in lex.yes)
    no = any(says(t, p) for p in lex.no)
    if yes == no:
        return Parsed(problem="yes_no")
    return Parsed(yes)


def _with_digits(text: str, language: str) -> str:
    """Numbers said as words become digits; a year said in two halves is joined again
    ("nineteen eighty" → "19 80" → "1980")."""
    digits = alpha2digit(text, base(language))
    return re.sub(r"\b(1[89]|20) ([0-9]{2})\b", r"\1\2", digits)


def number(text: str, language: str, item: Item) -> Parsed:
    t = plain(_with_digits(text, language), language)
    found = re.search(r"-?\d+(?:[.,]\d+)?", t)
    if found is None:
        return Parsed(problem="number")
    value = float(found.group().replace(",", "."))
    if (item.minimum is not None and value < item.minimum) or (
        item.maximum is not None and value > item.maximum
    ):
        return Parsed(problem="range")
    return Parsed(value)


def when(text: str, language: str, item: Item, today: date) -> Parsed:
    t = plain(_with_digits(text, language), language)
    lang = base(language)
    settings = {
        "REQUIRE_PARTS": ["day", "month", "year"],
        "DATE_ORDER": "DMY" if lang == "es" else "MDY",
        "PREFER_DATES_FROM": "past",
        "RELATIVE_BASE": None,
    }
    found = search_dates(
        t, languages=[lang], settings={k: v for k, v in settings.items() if v is not None}
    )
    if not found:
        return Parsed(problem="date")
    day = found[-1][1].date()
    if day > today and not item.allow_future:
        return Parsed(problem="future")
    return Parsed(day.isoformat())


def _options_said(t: str, item: Item, language: str) -> list[str]:
    said = []
    for option in item.options:
        names = {normalize(option.text.get(language, "")), option.code.replace("_", " ")}
        if any(name and says(t, name) for name in names):
            said.append(option.code)
    return said


def _option_by_number(t: str, item: Item, language: str) -> str | None:
    lex = lexicon(language)
    for word in tokens(t):
        n = lex.ordinals.get(word) or (int(word) if word.isdigit() else None)
        if n is not None and (n == -1 or 1 <= n <= len(item.options)):
            return item.options[n - 1 if n > 0 else -1].code
    return None


def choice(text: str, language: str, item: Item) -> Parsed:
    t = plain(_with_digits(text, language), language)
    said = _options_said(t, item, language)
    if len(said) == 1:
        return Parsed(said[0])
    if not said and (code := _option_by_number(t, item, language)) is not None:
        return Parsed(code)
    return Parsed(problem="choice")


def multi_choice(text: str, language: str, item: Item) -> Parsed:
    t = plain(text, language)
    said = _options_said(t, item, language)
    if said:
        return Parsed(said)
    if any(says(t, word) for word in lexicon(language).none):
        return Parsed([])
    return Parsed(problem="choice")


_LEAD_INS = r"my name is|my names|its|it is|i am|im|this is|me llamo|mi nombre es|soy|es|pues|bueno"


def free_text(text: str, language: str) -> Parsed:
    """The words said, less hesitations and lead-ins ("um, my name is ...")."""
    words = text.strip().split()
    kept = [w for w in words if without_fillers([normalize(w).strip(",.")], language)]
    answer = " ".join(kept).strip(" ,.")
    answer = re.sub(rf"^(?:{_LEAD_INS})\b[\s,]*", "", answer, flags=re.IGNORECASE)
    answer = answer.strip(" ,.")
    return Parsed(answer) if answer else Parsed(problem="empty")


def parse(text: str, language: str, item: Item, today: date) -> Parsed:
    match item.type:
        case "yes_no":
            return yes_no(text, language)
        case "number":
            return number(text, language, item)
        case "date":
            return when(text, language, item, today)
        case "choice":
            return choice(text, language, item)
        case "multi_choice":
            return multi_choice(text, language, item)
        case "text":
            return free_text(text, language)
