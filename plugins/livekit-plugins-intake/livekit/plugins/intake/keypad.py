"""Answers typed on a phone's keypad (DTMF): what a key sequence means for the item asked.

One key answers a yes/no question (1 yes, 2 no) or picks one of up to nine options; numbers,
dates and several options are typed and ended with ``#``; ``*`` clears what was typed and has
the question said again. A date is eight digits in the order the language writes it
(MMDDYYYY in English, DDMMYYYY in Spanish). Free text cannot be typed: it is said."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .prompts import prompts
from .questionnaire import Item
from .words import base

CLEAR = "*"
ENTER = "#"
YES, NO = "1", "2"
NONE = "0"
"""Typed for a multiple choice: none of the options apply."""


@dataclass(frozen=True)
class Entry:
    """A complete key sequence: the answer it stands for, or ``None`` when it means nothing
    for this item (the question is said again with how to type it)."""

    value: str | None


def single_key(item_type: str, options: int) -> bool:
    """Whether one key is a whole answer (no ``#`` needed); on free text a key only gets
    the reminder that it must be said."""
    return item_type in ("yes_no", "text") or (item_type == "choice" and options <= 9)


def typed_date(digits: str, language: str) -> str | None:
    if len(digits) != 8:
        return None
    first, second, year = int(digits[:2]), int(digits[2:4]), int(digits[4:])
    month, day = (second, first) if base(language) == "es" else (first, second)
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def meaning(typed: str, item_type: str, item: Item | None, language: str) -> Entry:
    """What ``typed`` (the keys before ``#``, or the one key) answers for a question of
    ``item_type`` (``yes_no`` also for consent and the read-back), as a value the engine
    parses like a spoken answer."""
    if not typed.isdigit():
        return Entry(None)
    words = prompts(language)
    match item_type:
        case "yes_no":
            return Entry({YES: words.yes, NO: words.no}.get(typed))
        case "number":
            return Entry(typed)
        case "date":
            return Entry(typed_date(typed, language))
        case "choice" | "multi_choice":
            assert item is not None
            if item_type == "multi_choice" and typed == NONE:
                return Entry(words.none)
            picked = [int(k) for k in (typed if item_type == "multi_choice" else [typed])]
            if not picked or any(not 1 <= k <= len(item.options) for k in picked):
                return Entry(None)
            codes = dict.fromkeys(item.options[k - 1].code for k in picked)
            return Entry(", ".join(code.replace("_", " ") for code in codes))
    return Entry(None)


class Keys:
    """The keys pressed since the last complete entry."""

    def __init__(self) -> None:
        self.typed = ""

    def press(self, key: str, item_type: str, options: int) -> str | None:
        """The entry once complete (``""`` after ``*``: say the question again); ``None``
        while more keys are expected."""
        if key == CLEAR:
            self.typed = ""
            return ""
        if key == ENTER:
            entry, self.typed = self.typed, ""
            return entry if entry else ""
        self.typed += key
        if single_key(item_type, options):
            entry, self.typed = self.typed, ""
            return entry
        return None
