"""How far behind the speaker the interpretation runs, per utterance and target language."""

from __future__ import annotations

import statistics
from collections.abc import Callable

from livekit.plugins.participants import percentile
from pydantic import BaseModel


class UtteranceLag(BaseModel):
    speaker: str
    target_language: str
    start_s: float | None = None
    """Source speech start → first translated audio frame."""
    end_s: float | None = None
    """Source speech end → last translated audio frame."""
    recognise_s: float | None = None
    """Utterance start → its first unit's words recognised (speaking + STT)."""
    translate_s: float | None = None
    """Words recognised → translation ready."""
    voice_s: float | None = None
    """Translation ready → first translated audio (TTS and the track's queue)."""


class LagSummary(BaseModel):
    utterances: int
    dropped: int = 0
    """Units dropped because a language's track fell too far behind."""
    start_p50_s: float | None
    start_p95_s: float | None
    end_p50_s: float | None
    end_p95_s: float | None
    recognise_p50_s: float | None
    translate_p50_s: float | None
    voice_p50_s: float | None


def _p50(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


class LagRecorder:
    def __init__(self) -> None:
        self.utterances: list[UtteranceLag] = []
        self.on_add: Callable[[UtteranceLag], None] | None = None
        """Told of each measurement, e.g. to publish the running summary."""
        self.dropped = 0
        self.on_drop: Callable[[], None] | None = None

    def add(self, lag: UtteranceLag) -> None:
        self.utterances.append(lag)
        if self.on_add is not None:
            self.on_add(lag)

    def drop(self) -> None:
        self.dropped += 1
        if self.on_drop is not None:
            self.on_drop()

    def summary(self) -> LagSummary:
        def values(name: str) -> list[float]:
            return [v for u in self.utterances if (v := getattr(u, name)) is not None]

        return LagSummary(
            utterances=len(self.utterances),
            dropped=self.dropped,
            start_p50_s=_p50(values("start_s")),
            start_p95_s=percentile(values("start_s"), 0.95),
            end_p50_s=_p50(values("end_s")),
            end_p95_s=percentile(values("end_s"), 0.95),
            recognise_p50_s=_p50(values("recognise_s")),
            translate_p50_s=_p50(values("translate_s")),
            voice_p50_s=_p50(values("voice_s")),
        )
