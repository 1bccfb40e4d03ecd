"""Is an utterance addressed to the assistant? Its name at the start, as STT spells it.

Speech recognisers spell an unusual name several ways ("Marlow" → "Marlo", "Harlow"), and
people lead in with "hey" or "okay": those are tolerated; the name anywhere else is not an
address ("I told Marlow's team…" is someone talking about it).
"""

from __future__ import annotations

import re

LEAD_INS = frozenset({"hey", "hi", "hello", "ok", "okay", "so", "um", "uh", "well", "and", "oh"})
LETTERS_PER_EDIT = 5
"""One wrong letter tolerated per five of the name: "Marlo" and "Harlow" pass for Marlow,
"Mellow" (two edits) does not."""


def _distance(a: str, b: str) -> int:
    """Levenshtein distance."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def _key(word: str) -> str:
    return re.sub(r"[\W_]+", "", word.lower())


def addressed(text: str, name: str) -> str | None:
    """The request after the name if ``text`` addresses ``name``, else None ("" when the
    name was all that was said)."""
    target = _key(name)
    words = text.split()
    i = 0
    while i < len(words) and i < 2 and _key(words[i]) in LEAD_INS:
        i += 1
    span = len(name.split())
    # The name may come out split in one word more ("Par ley"); fewer words would let a
    # prefix pass ("Doctor" for "Doctor Who").
    for n in (span, span + 1):
        spoken = _key("".join(words[i : i + n]))
        if spoken and _distance(spoken, target) <= max(1, len(target) // LETTERS_PER_EDIT):
            rest = " ".join(words[i + n :])
            return rest.lstrip(",.:;!?-— ").strip()
    return None
