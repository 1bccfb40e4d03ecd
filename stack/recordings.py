"""Real recorded speech with known text: Debian's asterisk-core-sounds-{en,es}(-wav) prompts.

Shared by tests and benchmarks, so both score transcripts against the same ground truth.
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from functools import cache
from pathlib import Path

SOUNDS = Path("/usr/share/asterisk/sounds")
DOCS = Path("/usr/share/doc")

CLIPS = (
    "agent-pass",
    "conf-onlyperson",
    "privacy-unident",
    "vm-nobodyavail",
    "pbx-invalid",
    "tt-weasels",
)
"""Short, clean prompts (1.5–4 s) of varied words."""


def clip(name: str, language: str = "en") -> Path:
    path = SOUNDS / language / f"{name}.wav"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: run scripts/setup (asterisk-core-sounds-{language}-wav)"
        )
    return path


@cache
def _texts(language: str) -> dict[str, str]:
    texts: dict[str, str] = {}
    package = f"asterisk-core-sounds-{language}"
    with gzip.open(DOCS / package / f"core-sounds-{language}.txt.gz", "rt") as f:
        for line in f:
            name, sep, text = line.partition(":")
            if sep and " " not in name:
                texts[name.strip()] = text.strip()
    return texts


def known_text(name: str, language: str = "en") -> str:
    return _texts(language)[name]


def normalize(text: str) -> str:
    """Lower case, no accents, no punctuation: word error rate should count words, not
    commas (and the Spanish transcripts are written without accents)."""
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", plain).split())


def word_error_rate(reference: str, hypothesis: str) -> float:
    import jiwer

    return float(jiwer.wer(normalize(reference), normalize(hypothesis) or "<empty>"))
