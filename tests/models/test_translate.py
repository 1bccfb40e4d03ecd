"""Apertium, one sentence at a time."""

from __future__ import annotations

import pytest
from livekit.plugins import offline


async def test_translates_a_sentence_both_ways() -> None:
    to_spanish = offline.Translator("en", "es")
    assert "dolor de cabeza" in (await to_spanish.translate("I have a headache.")).lower()
    to_english = offline.Translator("es-MX", "en")
    assert "headache" in (await to_english.translate("Tengo dolor de cabeza.")).lower()


def test_a_missing_pair_names_the_package_to_install() -> None:
    with pytest.raises(offline.ModelError, match="apertium-eng-deu"):
        offline.Translator("en", "de")
