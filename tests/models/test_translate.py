"""Apertium, one sentence at a time."""

from __future__ import annotations

from livekit.plugins import offline


async def test_translates_a_sentence_both_ways() -> None:
    apertium = offline.Translator()
    spanish = await apertium.translate("I have a headache.", "en", "es")
    assert "dolor de cabeza" in spanish.lower()
    english = await apertium.translate("Tengo dolor de cabeza.", "es-MX", "en")
    assert "headache" in english.lower()


def test_a_missing_pair_names_the_package_to_install() -> None:
    reason = offline.Translator().unsupported("en", "de")
    assert reason is not None and "apertium-eng-deu" in reason
    assert offline.Translator().unsupported("en", "es") is None
