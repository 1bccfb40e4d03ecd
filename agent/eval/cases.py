"""Turn-taking cases: ``NAME.wav`` beside ``NAME.json`` with the labelled pauses.

``{"gaps": [{"start": s, "end": s, "kind": "mid" | "end", "after": "words" | "sentence"}],
"lang": "en", "text": "...", "noise": "clean"}``: a ``mid`` gap is a pause inside the user's
turn (taking the turn there is a false cut-in; ``after``, optional, says whether it follows
words inside a sentence or a whole sentence); an ``end`` gap follows the turn's last word. A
case that cannot be read or whose labels do not hold together is reported with its file name;
the others still run.
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, ValidationError, model_validator

After = Literal["words", "sentence"]


class Gap(BaseModel):
    start: float = Field(ge=0)
    end: float = Field(ge=0)
    kind: Literal["mid", "end"]
    after: After | None = None
    """For a ``mid`` gap, what the speaker stopped after: words inside a sentence ("you
    have …"), or a whole sentence with more to come. The eval reports the two apart: after a
    whole sentence, said with a sentence's final fall, only the pause's length tells a
    listener that the turn goes on."""

    @model_validator(mode="after")
    def _ordered(self) -> Gap:
        if self.end <= self.start:
            raise ValueError(f"gap end {self.end} is not after its start {self.start}")
        return self


class Labels(BaseModel):
    gaps: list[Gap] = Field(min_length=1)
    lang: str = "en"
    text: str = ""
    noise: str = "clean"
    """How the audio was degraded, for the breakdown: clean, babble-10db, phone, …"""
    voice: str = ""
    """Who speaks, for the breakdown (a corpus' own name for the voice)."""

    @model_validator(mode="after")
    def _consistent(self) -> Labels:
        for before, after in zip(self.gaps, self.gaps[1:], strict=False):
            if after.start < before.end:
                raise ValueError(f"gaps overlap or are out of order at {after.start} s")
        if not any(g.kind == "end" for g in self.gaps):
            raise ValueError('no "end" gap: every case needs the end of its turn labelled')
        return self


class Case(BaseModel, arbitrary_types_allowed=True):
    name: str
    labels: Labels
    samples: np.ndarray
    """int16 mono."""
    rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate


class CaseError(BaseModel):
    file: str
    reason: str


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{8 * w.getsampwidth()}-bit samples; 16-bit PCM WAV expected")
        channels, rate = w.getnchannels(), w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return samples, rate


def load_case(wav: Path) -> Case:
    """Raises ``ValueError`` naming what is wrong."""
    labels_path = wav.with_suffix(".json")
    if not labels_path.exists():
        raise ValueError(f"no labels: {labels_path.name} is missing")
    try:
        labels = Labels.model_validate_json(labels_path.read_text())
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "labels"
        raise ValueError(f"{labels_path.name}: {where}: {first['msg']}") from None
    try:
        samples, rate = read_wav(wav)
    except (wave.Error, EOFError, ValueError) as e:
        raise ValueError(f"{wav.name} cannot be read as a WAV file ({e})") from None
    duration = len(samples) / rate
    if labels.gaps[-1].end > duration + 0.05:
        raise ValueError(
            f"a gap ends at {labels.gaps[-1].end} s, after the audio ({duration:.2f} s)"
        )
    return Case(name=wav.stem, labels=labels, samples=samples, rate=rate)


def load_cases(directory: Path) -> tuple[list[Case], list[CaseError]]:
    cases: list[Case] = []
    errors: list[CaseError] = []
    names = sorted({p.with_suffix("") for p in directory.glob("*.wav")} | {
        p.with_suffix("") for p in directory.glob("*.json")
    })  # fmt: skip
    for stem in names:
        wav = stem.with_suffix(".wav")
        try:
            if not wav.exists():
                raise ValueError(f"no audio: {wav.name} is missing")
            cases.append(load_case(wav))
        except ValueError as e:
            errors.append(CaseError(file=str(wav), reason=str(e)))
    return cases, errors
