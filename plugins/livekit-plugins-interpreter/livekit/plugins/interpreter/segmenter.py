"""Where to start translating: clause and sentence boundaries of the growing transcript.

A simultaneous interpreter does not wait for the end of a long turn. Each interim transcript
is cut at its last clause boundary that is followed by at least ``STABLE_TAIL`` more words
(speech recognisers revise the last words of an interim, rarely the earlier ones). Speech
without punctuation in sight is cut after ``max_words`` stable words, as interpreters chunk
by phrase. The final transcript flushes what is left.
"""

from __future__ import annotations

CLAUSE_END = (",", ";", ":", ".", "?", "!", "…", "。", "？", "！", "،")
STABLE_TAIL = 1
MIN_WORDS = 3
"""Shorter pieces translate badly ("Yes, so," alone) and are merged into the next."""
MAX_WORDS = 4


class ClauseSegmenter:
    """One per speaker: turns interim and final transcripts into translation units."""

    def __init__(self, max_words: int = MAX_WORDS) -> None:
        self._committed = 0
        """Words of the current utterance already sent for translation."""
        self._max_words = max_words

    def interim(self, text: str) -> list[str]:
        words = text.split()
        cut = None
        for i in range(len(words) - STABLE_TAIL, self._committed, -1):
            if words[i - 1].endswith(CLAUSE_END) and i - self._committed >= MIN_WORDS:
                cut = i
                break
        stable = len(words) - STABLE_TAIL
        if cut is None and stable - self._committed >= self._max_words:
            cut = stable
        if cut is None:
            return []
        unit = " ".join(words[self._committed : cut])
        self._committed = cut
        return [unit]

    def final(self, text: str) -> list[str]:
        rest = text.split()[self._committed :]
        self._committed = 0
        return [" ".join(rest)] if rest else []
