"""Casing across the chunks of one sentence.

A translator handed a chunk takes it for a sentence and capitalises it: "kicked from this
conference." becomes "Chutado de esta conferencia.", and the caption reads "Has sido Chutado
de esta conferencia.". A chunk that continues a sentence keeps its source's lower case.
"""

from __future__ import annotations

SENTENCE_END = (".", "?", "!", "…", "。", "？", "！")
_CLOSERS = "\"')]»”’"


def ends_sentence(text: str) -> bool:
    return text.rstrip().rstrip(_CLOSERS).endswith(SENTENCE_END)


def continued(source: str, translation: str) -> str:
    """``translation`` of ``source``, a chunk in the middle of a sentence: its first letter
    lower-cased when the source's is. A capital in the source ("I", a name) may be the
    translation's too, and an acronym ("OK", "EE. UU.") keeps its capitals."""
    first = next((c for c in source if c.isalpha()), "")
    if not first.islower():
        return translation
    i = next((i for i, c in enumerate(translation) if c.isalpha()), None)
    if i is None or not translation[i].isupper():
        return translation
    if translation[i + 1 : i + 2].isupper():
        return translation
    return translation[:i] + translation[i].lower() + translation[i + 1 :]
