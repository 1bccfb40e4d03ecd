"""Apertium, one sentence at a time."""

from __future__ import annotations

from livekit.plugins import offline
from livekit.plugins.interpreter.casing import continued


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


async def test_the_kept_pipeline_serves_sentence_after_sentence() -> None:
    apertium = offline.Translator()
    outs = [
        await apertium.translate(text, "en", "es")
        for text in ("Where does it hurt?", "It costs $5 [about] @home.", "I have a headache.")
    ]
    assert outs[0].startswith("Dónde")
    assert "$5" in outs[1] and "@" in outs[1]  # Apertium's special characters pass through
    assert "dolor de cabeza" in outs[2]  # still in step: each answer is its own sentence's


async def test_a_sentence_in_chunks_reads_as_one_sentence() -> None:
    """Apertium capitalises every chunk as a sentence; the interpreter's casing undoes it."""
    apertium = offline.Translator()
    chunks = ["You have been", "kicked from this conference."]
    parts = [await apertium.translate(chunk, "en", "es") for chunk in chunks]
    assert parts[1].startswith("Chutado")
    caption = " ".join([parts[0], continued(chunks[1], parts[1])])
    assert caption == "Has sido chutado de esta conferencia."
