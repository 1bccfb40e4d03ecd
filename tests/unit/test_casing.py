"""Casing across a sentence's chunks: the translator's capital is dropped mid-sentence."""

from __future__ import annotations

import pytest
from livekit.plugins.interpreter.casing import continued, ends_sentence


@pytest.mark.parametrize(
    ("source", "translation", "caption"),
    [
        (
            "kicked from this conference.",
            "Chutado de esta conferencia.",
            "chutado de esta conferencia.",
        ),
        ("or unmute yourself", "¿O Dejar de silenciar?", "¿o Dejar de silenciar?"),
        ("Alice will join", "Alice se unirá", "Alice se unirá"),  # a name stays
        ("I am here", "Estoy aquí", "Estoy aquí"),  # the source's capital may be right
        ("ok then", "OK entonces", "OK entonces"),  # an acronym keeps its capitals
        ("5 minutes", "5 Minutos", "5 minutos"),  # the first letter, after a number
        ("and then", "", ""),
    ],
)
def test_a_continuing_chunk_keeps_its_sources_lower_case(
    source: str, translation: str, caption: str
) -> None:
    assert continued(source, translation) == caption


@pytest.mark.parametrize(
    ("text", "ends"),
    [
        ("Hello.", True),
        ("Really?", True),
        ('He said "stop."', True),
        ("Hello,", False),
        ("so", False),
    ],
)
def test_the_end_of_a_sentence(text: str, ends: bool) -> None:
    assert ends_sentence(text) is ends
