"""Where to start translating: clause and sentence boundaries of the growing transcript.

A simultaneous interpreter does not wait for the end of a long turn. A word counts as heard
once two consecutive interim transcripts agree on it (speech recognisers revise the tail of
an interim: "your path" becomes "your password" a moment later). The agreed prefix is cut at
its last clause boundary; speech without punctuation in sight is cut after ``max_words``
agreed words, as interpreters chunk by phrase. The final transcript flushes what is left.
"""

from __future__ import annotations

import re

CLAUSE_END = (",", ";", ":", ".", "?", "!", "…", "。", "？", "！", "،")
MIN_WORDS = 3
"""Shorter pieces translate badly ("Yes, so," alone) and are merged into the next."""
MAX_WORDS = 3


def _key(word: str) -> str:
    """Interims differ in case and punctuation before they differ in words."""
    return re.sub(r"\W+", "", word.lower())


class ClauseSegmenter:
    """One per speaker: turns interim and final transcripts into translation units."""

    def __init__(self, max_words: int = MAX_WORDS) -> None:
        self._committed = 0
        """Words of the current utterance already sent for translation."""
        self._previous: list[str] = []
        self._max_words = max_words

    def interim(self, text: str) -> list[str]:
        words = text.split()
        agreed = 0
        for before, now in zip(self._previous, words, strict=False):
            if _key(before) != _key(now):
                break
            agreed += 1
        self._previous = words
        cut = None
        for i in range(agreed, self._committed, -1):
            if words[i - 1].endswith(CLAUSE_END) and i - self._committed >= MIN_WORDS:
                cut = i
                break
        if cut is None and agreed - self._committed >= self._max_words:
            cut = agreed
        if cut is None:
            return []
        unit = " ".join(words[self._committed : cut])
        self._committed = cut
        return [unit]

    def final(self, text: str) -> list[str]:
        rest = text.split()[self._committed :]
        self._committed, self._previous = 0, []
        return [" ".join(rest)] if rest else []
