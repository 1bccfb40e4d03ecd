"""Percentiles of few measurements (a meeting's lines, an interpreter's utterances)."""

from __future__ import annotations

from collections.abc import Iterable


def percentile(values: Iterable[float], q: float) -> float | None:
    """Nearest rank, ``q`` in [0, 1]: with few values, one that really happened (None for
    none). Medians, where an average of the middle two reads better, use ``statistics``."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
