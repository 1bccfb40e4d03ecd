"""The turn-taking corpus, built reproducibly from real recordings (asterisk-core-sounds-en).

    scripts/build-turn-corpus [--out tests/turns/corpus]

Each case is one user turn made of recorded fragments ("You have … five new messages"), with
a pause of 0.3–2 s where a speaker stops mid-sentence (a ``mid`` gap), then 3 s of quiet
after the last word (the ``end`` gap). Each turn comes clean, with babble (other recordings
mixed 10 dB under the voice, going on through the pauses) and through a phone band
(300–3400 Hz, 8 kHz, μ-law). Deterministic: same files on every machine.
"""

from __future__ import annotations

import argparse
import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from fakes.audio import read_wav, resample, voiced_span, write_wav

from .process import ROOT
from .recordings import clip, known_text

RATE = 16_000
TAIL_S = 3.0
PAUSES = (0.3, 0.7, 1.2, 2.0)
NOISES = ("clean", "babble-10db", "phone")
# "|" is where the speaker pauses mid-turn; the words before it are plainly unfinished.
TURNS = (
    ("vm-youhave", "|", "digits/5", "vm-INBOX", "vm-messages"),
    ("vm-enter-num-to-call", "|", "digits/5", "digits/2"),
    ("if-correct-press", "|", "digits/1"),
    ("conf-onlyperson", "|", "conf-placeintoconf"),
    ("vm-youhave", "digits/2", "|", "vm-messages"),
    ("agent-newlocation", "|", "conf-getpin"),
)
BABBLE = ("privacy-unident", "pbx-invalid", "tt-weasels", "vm-nobodyavail")


@cache  # the babble bed and repeated fragments are read once per build, not per case
def _fragment(name: str) -> np.ndarray:
    samples, rate = read_wav(clip(name).read_bytes())
    pcm = resample(samples, rate, RATE)
    start, end = voiced_span(pcm, RATE)
    return pcm[start:end]


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) or 1.0


def _babble(length: int, voice: np.ndarray, snr_db: float) -> np.ndarray:
    bed = np.concatenate([_fragment(n) for n in BABBLE] * 8)[:length].astype(np.float64)
    bed = np.pad(bed, (0, max(0, length - len(bed))))
    return bed * (_rms(voice) / _rms(bed)) * 10 ** (-snr_db / 20)


def _phone(x: np.ndarray) -> np.ndarray:
    """300–3400 Hz, 8 kHz sampling and μ-law companding, as a phone line delivers speech."""
    spectrum = np.fft.rfft(x.astype(np.float64))
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    spectrum[(freqs < 300) | (freqs > 3400)] = 0
    band = resample(np.fft.irfft(spectrum, len(x)).astype(np.int16), RATE, 8000)
    mu = 255.0
    y = band.astype(np.float64) / 32768
    companded = np.sign(y) * np.log1p(mu * np.abs(y)) / np.log1p(mu)
    quantised = np.round(companded * 127) / 127
    expanded = np.sign(quantised) * np.expm1(np.abs(quantised) * np.log1p(mu)) / mu
    return np.asarray(expanded * 32767, dtype=np.int16)


def build_case(
    turn: tuple[str, ...], pause_s: float, noise: str
) -> tuple[np.ndarray, int, dict[str, Any]]:
    pieces: list[np.ndarray] = []
    mids: list[tuple[int, int]] = []
    t = 0
    for name in turn:
        if name == "|":
            pause = int(pause_s * RATE)
            mids.append((t, t + pause))
            pieces.append(np.zeros(pause, dtype=np.int16))
            t += pause
        else:
            frag = _fragment(name)
            pieces.append(np.zeros(int(0.08 * RATE), dtype=np.int16))  # between words
            pieces.append(frag)
            t += int(0.08 * RATE) + len(frag)
    lead = np.zeros(int(0.5 * RATE), dtype=np.int16)
    voice = np.concatenate([lead, *pieces, np.zeros(int(TAIL_S * RATE), dtype=np.int16)])
    offset = len(lead)

    def gap(start: int, end: int, kind: str) -> dict[str, Any]:
        return {"start": round(start / RATE, 3), "end": round(end / RATE, 3), "kind": kind}

    gaps = [gap(a + offset, b + offset, "mid") for a, b in mids]
    gaps.append(gap(offset + t, len(voice), "end"))
    audio, rate = voice, RATE
    if noise == "babble-10db":
        mixed = voice.astype(np.float64) + _babble(len(voice), voice[voice != 0], 10.0)
        audio = np.clip(mixed, -32768, 32767).astype(np.int16)
    elif noise == "phone":
        audio, rate = _phone(voice), 8000
    words = [known_text(n).strip(" .,") for n in turn if n != "|"]
    labels = {"gaps": gaps, "lang": "en", "text": " ".join(words), "noise": noise}
    return audio, rate, labels


def build(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for i, turn in enumerate(TURNS):
        for j, noise in enumerate(NOISES):
            pause = PAUSES[(i + j) % len(PAUSES)]
            audio, rate, labels = build_case(turn, pause, noise)
            stem = out / f"t{i + 1}-{noise}-{int(pause * 1000)}ms"
            stem.with_suffix(".wav").write_bytes(write_wav(audio, rate))
            stem.with_suffix(".json").write_text(json.dumps(labels, indent=1))
            written.append(stem.with_suffix(".wav"))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "tests/turns/corpus")
    args = parser.parse_args()
    files = build(args.out)
    print(f"{len(files)} cases in {args.out}")


if __name__ == "__main__":
    main()
