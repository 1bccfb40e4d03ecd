"""How far behind the speaker the interpretation runs, per utterance and target language."""

from __future__ import annotations

import statistics
from collections.abc import Callable

from pydantic import BaseModel


class UtteranceLag(BaseModel):
    speaker: str
    target_language: str
    start_s: float | None = None
    """Source speech start → first translated audio frame."""
    end_s: float | None = None
    """Source speech end → last translated audio frame."""


class LagSummary(BaseModel):
    utterances: int
    start_p50_s: float | None
    start_p95_s: float | None
    end_p50_s: float | None
    end_p95_s: float | None


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class LagRecorder:
    def __init__(self) -> None:
        self.utterances: list[UtteranceLag] = []
        self.on_add: Callable[[UtteranceLag], None] | None = None
        """Told of each measurement, e.g. to publish the running summary."""

    def add(self, lag: UtteranceLag) -> None:
        self.utterances.append(lag)
        if self.on_add is not None:
            self.on_add(lag)

    def summary(self) -> LagSummary:
        starts = [u.start_s for u in self.utterances if u.start_s is not None]
        ends = [u.end_s for u in self.utterances if u.end_s is not None]
        return LagSummary(
            utterances=len(self.utterances),
            start_p50_s=statistics.median(starts) if starts else None,
            start_p95_s=_pct(starts, 0.95),
            end_p50_s=statistics.median(ends) if ends else None,
            end_p95_s=_pct(ends, 0.95),
        )
