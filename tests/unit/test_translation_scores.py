"""The interpreter benchmark's measures: average lagging on worked examples, chrF/BLEU
bounds, and the bilingual set it speaks."""

from __future__ import annotations

import pytest

from stack.recordings import bilingual
from stack.translation_scores import average_lagging, corpus_scores

pytestmark = pytest.mark.unit


def test_average_lagging_of_a_paced_and_of_a_consecutive_interpreter() -> None:
    # 4 s of source, 4 target words: one per second, each 0.5 s behind its share.
    assert average_lagging([0.5, 1.5, 2.5, 3.5], 4.0) == pytest.approx(0.5)
    # Everything after the source ended: only the first word counts, τ = 1.
    assert average_lagging([5.0, 5.1, 5.2, 5.3], 4.0) == pytest.approx(5.0)
    # τ stops at the first word after the end (the third): ((1 - 0) + (2 - 1) + (4.5 - 2)) / 3.
    assert average_lagging([1.0, 2.0, 4.5, 6.0], 4.0) == pytest.approx(1.5)
    assert average_lagging([], 4.0) is None


def test_scores_ignore_case_accents_and_punctuation_and_punish_wrong_words() -> None:
    refs = ["Por favor ingrese su numero de agente"]
    perfect = corpus_scores(["¡Por favor, ingrese su número de agente!"], refs)
    assert perfect["chrf"] == pytest.approx(100) and perfect["bleu"] == pytest.approx(100)
    wrong = corpus_scores(["Complacer introducir su agente"], refs)
    assert wrong["chrf"] < 60 and wrong["bleu"] < 30


def test_the_bilingual_set_is_thirty_distinct_prompts_with_spanish_references() -> None:
    pairs = bilingual(30)
    assert len({p.name for p in pairs}) == 30
    assert all(p.path.exists() and p.reference and p.source_text for p in pairs)
    assert bilingual(30) == pairs  # the same set every time
