"""Red flags are rules, not model judgement: a phrase said and not negated, or an answer
that meets a condition. The caller's words are screened on every utterance, whatever the
agent is asking at that moment.

A phrase matches its words in order with at most ``GAP`` other words between them ("my
chest really hurts" matches "chest hurts"); it is negated when a negation word stands at
most ``NEGATION_WINDOW`` words before it in the same clause ("no chest pain", "I don't
have trouble breathing"). Clauses end at punctuation and at words like "but".

Every rule is screened in each language it has phrases for, whatever the call's language:
callers switch languages, and a missed flag costs more than a false one."""

from __future__ import annotations

from dataclasses import dataclass

from .parse import joined
from .questionnaire import RedFlagRule, Value
from .words import base, lexicon, tokens

GAP = 2
NEGATION_WINDOW = 3


@dataclass(frozen=True)
class RedFlag:
    rule: str
    """The rule's id: what the clinic, the room and the log are told (never the words)."""
    source: str
    """``words`` (the caller said it) or ``answer:<item>``."""


def clauses(text: str, language: str) -> list[list[str]]:
    breaks = lexicon(language).clause_breaks
    out: list[list[str]] = [[]]
    for word in tokens(joined(text)):
        if word in (",", ".") or word in breaks:
            out.append([])
        else:
            out[-1].append(word)
    return [c for c in out if c]


def _match_at(clause: list[str], phrase: list[str], start: int) -> bool:
    at = start
    for n, word in enumerate(phrase):
        limit = at + 1 if n == 0 else min(len(clause), at + GAP + 1)
        for i in range(at, limit):
            if i < len(clause) and clause[i] == word:
                at = i + 1
                break
        else:
            return False
    return True


def said(clause: list[str], phrase: list[str], negations: frozenset[str]) -> bool:
    for start in range(len(clause)):
        if clause[start] == phrase[0] and _match_at(clause, phrase, start):
            before = clause[max(0, start - NEGATION_WINDOW) : start]
            if not negations & set(before):
                return True
    return False


class RedFlagScreen:
    def __init__(self, rules: list[RedFlagRule]) -> None:
        self._rules = rules
        self._phrases = {
            rule.id: [
                (base(language), tokens(joined(p)))
                for language, phrases in rule.phrases.items()
                for p in phrases
            ]
            for rule in rules
        }
        self._languages = {lang for found in self._phrases.values() for lang, _ in found}

    def words(self, text: str) -> RedFlag | None:
        """The first rule the caller's words fire, if any."""
        by_language = {lang: clauses(text, lang) for lang in self._languages}
        for rule in self._rules:
            for lang, phrase in self._phrases[rule.id]:
                negations = lexicon(lang).negations
                if phrase and any(said(c, phrase, negations) for c in by_language[lang]):
                    return RedFlag(rule.id, "words")
        return None

    def answers(self, answers: dict[str, Value]) -> RedFlag | None:
        """The first rule whose answer conditions all hold."""
        for rule in self._rules:
            if rule.when and all(c.holds(answers) for c in rule.when):
                return RedFlag(rule.id, f"answer:{rule.when[0].item}")
        return None
