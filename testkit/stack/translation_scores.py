"""How good and how simultaneous an interpretation is, as simultaneous-translation papers
report it: corpus chrF and BLEU (sacrebleu) against reference translations, and per
utterance the start offset, the end offset and average lagging (AL).

AL (Ma et al., 2019, in its speech form as SimulEval computes it): with ``d_i`` the time
into the source at which target word ``i`` appeared, ``|X|`` the source's duration and
``|Y|`` the number of target words, AL = (1/τ) Σ_{i ≤ τ} (d_i − (i − 1)·|X|/|Y|), τ being the
first word that appeared after the source ended (or the last word). An ideal interpreter
that keeps pace scores about 0; a consecutive one about the source's whole duration.
"""

from __future__ import annotations

from collections.abc import Sequence

import sacrebleu

from .recordings import normalize


def average_lagging(word_times: Sequence[float], source_s: float) -> float | None:
    """``word_times``: when each target word appeared, in seconds from the source's start."""
    if not word_times or source_s <= 0:
        return None
    rate = source_s / len(word_times)
    tau = next((i for i, d in enumerate(word_times, 1) if d >= source_s), len(word_times))
    return sum(word_times[i] - i * rate for i in range(tau)) / tau


def corpus_scores(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """chrF and BLEU over the corpus, both sides lower-cased without accents or punctuation
    (the Spanish references have no accents: a correct accent must not cost points)."""
    hyps = [normalize(h) for h in hypotheses]
    refs = [[normalize(r) for r in references]]
    return {
        "chrf": float(sacrebleu.corpus_chrf(hyps, refs).score),
        "bleu": float(sacrebleu.corpus_bleu(hyps, refs).score),
    }
