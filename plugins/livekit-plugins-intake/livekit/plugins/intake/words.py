"""What the parsers and the red-flag rules share: text made comparable, and the small word
lists of each language (yes, no, negation, hesitation, self-correction)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Lexicon:
    yes: tuple[str, ...]
    no: tuple[str, ...]
    unsure: tuple[str, ...]
    """Said instead of an answer: neither yes nor no."""
    negations: frozenset[str]
    """Words that negate what follows them in the same clause."""
    fillers: frozenset[str]
    corrections: tuple[str, ...]
    """What a speaker says before correcting themselves: the answer is what follows."""
    clause_breaks: frozenset[str]
    none: frozenset[str]
    ordinals: dict[str, int]


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


def _phrases(phrases: str) -> tuple[str, ...]:
    return tuple(phrases.split(", "))


def _ordinals(words: str) -> dict[str, int]:
    """ "first:1 last:-1" → {"first": 1, "last": -1}."""
    return {w: int(n) for w, n in (pair.split(":") for pair in words.split())}


LEXICONS: dict[str, Lexicon] = {
    "en": Lexicon(
        yes=_phrases(
            "yes, yeah, yep, yup, correct, right, sure, affirmative, i do, of course, "
            "definitely, absolutely, uh huh"
        ),
        no=("no", "nope", "nah", "not", "never", "negative", "dont", "doesnt", "i dont"),
        unsure=("not sure", "dont know", "no idea", "maybe", "i guess", "cant remember"),
        negations=_set(
            "no not dont doesnt didnt never without denies deny isnt arent wasnt havent hasnt "
            "nor none neither"
        ),
        fillers=_set("um umm uh uhh er erm hmm mm well so like okay ok oh"),
        corrections=("i mean", "actually", "sorry", "no wait", "wait", "rather", "let me correct"),
        clause_breaks=_set("but however although though except"),
        none=_set("none nothing neither no"),
        ordinals=_ordinals(
            "first:1 second:2 third:3 fourth:4 fifth:5 sixth:6 1st:1 2nd:2 3rd:3 4th:4 5th:5 "
            "6th:6 last:-1"
        ),
    ),
    "es": Lexicon(
        yes=("si", "claro", "correcto", "exacto", "asi es", "por supuesto", "efectivamente"),
        no=("no", "nunca", "tampoco", "ninguno", "ninguna"),
        unsure=("no se", "no estoy segur", "quizas", "tal vez", "no recuerdo", "no me acuerdo"),
        negations=_set("no sin nunca ni tampoco jamas niego"),
        fillers=_set("eh pues bueno mmm em"),
        corrections=("quiero decir", "mejor dicho", "perdon", "digo", "espere", "en realidad"),
        clause_breaks=_set("pero aunque sino excepto"),
        none=_set("ninguno ninguna nada no"),
        ordinals=_ordinals(
            "primero:1 primera:1 segundo:2 segunda:2 tercero:3 tercera:3 cuarto:4 cuarta:4 "
            "quinto:5 quinta:5 ultimo:-1 ultima:-1"
        ),
    ),
}


def base(language: str) -> str:
    """The language whose word lists apply: ``es-MX`` → ``es``; one without lists → ``en``."""
    primary = language.split("-")[0].lower()
    return primary if primary in LEXICONS else "en"


def lexicon(language: str) -> Lexicon:
    return LEXICONS[base(language)]


def normalize(text: str) -> str:
    """Lower case, accents and apostrophes dropped, punctuation kept as ``,`` or ``.``:
    "¿Sí, me DUELE el pecho!" → "si, me duele el pecho."."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = re.sub(r"['’`]", "", plain)
    plain = re.sub(r"[¿¡\"()\[\]]", " ", plain)
    plain = re.sub(r"[!?;:]", ".", plain)
    return re.sub(r"\s+", " ", plain).strip()


def tokens(text: str) -> list[str]:
    """Words and the punctuation marks ``,`` ``.`` of normalized text."""
    return re.findall(r"[a-z0-9]+(?:[.,][0-9]+)?|[.,]", text)


def after_correction(text: str, language: str) -> str:
    """What a speaker settled on: the part after the last self-correction, if any."""
    lex = lexicon(language)
    cut = 0
    for marker in lex.corrections:
        for m in re.finditer(rf"\b{re.escape(marker)}\b", text):
            rest = text[m.end() :].strip(" ,.")
            if rest:
                cut = max(cut, m.end())
    return text[cut:].strip(" ,.")


def without_fillers(words: list[str], language: str) -> list[str]:
    fillers = lexicon(language).fillers
    return [w for w in words if w not in fillers]
