"""The turn-taking corpus, built reproducibly from real recordings (asterisk-core-sounds-en/es,
asterisk-moh-opsound-wav).

    scripts/build-turn-corpus [--out tests/turns/corpus]

Each case is one user turn made of recorded fragments ("You have … five new messages",
"Usted tiene … cinco nuevos mensajes"), with a pause of 0.3–2 s where a speaker stops
mid-sentence (a ``mid`` gap), then 3 s of quiet after the last word (the ``end`` gap). Each
turn comes clean, through a phone band (300–3400 Hz, 8 kHz, μ-law), and under one noise bed
in turn: six-talker babble or hold music at 20 or 10 dB SNR, going on through the pauses.
Deterministic: same files on every machine.
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
from .recordings import clip, known_text, phone_band

RATE = 16_000
TAIL_S = 3.0
PAUSES = (0.3, 0.7, 1.2, 2.0)
BEDS = ("babble-20db", "music-10db", "babble-10db", "music-20db")
"""Noise beds, one per turn in rotation beside ``clean`` and ``phone``."""
# "|" is where the speaker pauses mid-turn; the words before it are mostly plainly unfinished.
TURNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("en", ("vm-youhave", "|", "digits/5", "vm-INBOX", "vm-messages")),
    ("en", ("vm-enter-num-to-call", "|", "digits/5", "digits/2")),
    ("en", ("if-correct-press", "|", "digits/1")),
    ("en", ("conf-onlyperson", "|", "conf-placeintoconf")),
    ("en", ("vm-youhave", "digits/2", "|", "vm-messages")),
    ("en", ("agent-newlocation", "|", "conf-getpin")),
    ("es", ("vm-youhave", "|", "digits/5", "vm-INBOX", "vm-messages")),
    ("es", ("vm-theperson", "|", "digits/5", "vm-isunavail")),
    ("es", ("vm-youhave", "digits/2", "|", "vm-messages")),
    ("es", ("tt-weasels", "|", "pbx-invalid")),
)
TALKERS = ("privacy-unident", "pbx-invalid", "tt-weasels", "vm-nobodyavail", "conf-getpin")
MUSIC = Path("/usr/share/asterisk/moh/macroform-cold_day.wav")


@cache  # the noise beds and repeated fragments are read once per build, not per case
def _fragment(name: str, lang: str = "en") -> np.ndarray:
    samples, rate = read_wav(clip(name, lang).read_bytes())
    pcm = resample(samples, rate, RATE)
    start, end = voiced_span(pcm, RATE)
    return pcm[start:end]


@cache
def _music() -> np.ndarray:
    if not MUSIC.exists():
        raise FileNotFoundError(f"{MUSIC} is missing: run scripts/setup (asterisk-moh-opsound-wav)")
    samples, rate = read_wav(MUSIC.read_bytes())
    return resample(samples, rate, RATE)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) or 1.0


def _talker(i: int, length: int) -> np.ndarray:
    """One background talker: the prompts in its own order, from its own offset."""
    names = TALKERS[i % len(TALKERS) :] + TALKERS[: i % len(TALKERS)]
    lang = ("en", "es")[i % 2]
    stream = np.concatenate([_fragment(n, lang) for n in names] * 8).astype(np.float64)
    start = (i * 7919) % (len(stream) - length) if len(stream) > length else 0
    out = stream[start : start + length]
    return np.pad(out, (0, length - len(out))) / _rms(out)


def _bed(kind: str, length: int) -> np.ndarray:
    """Six talkers at once (babble: speech-like, but no one voice to follow) or hold music,
    at unit RMS."""
    if kind == "babble":
        bed = sum((_talker(i, length) for i in range(6)), np.zeros(length))
    else:
        music = _music().astype(np.float64)
        bed = np.resize(music, length)
    return bed / _rms(bed)


def _mixed(voice: np.ndarray, bed: str) -> np.ndarray:
    kind, snr = bed.split("-")
    noise = _bed(kind, len(voice)) * _rms(voice[voice != 0]) * 10 ** (-float(snr[:-2]) / 20)
    return np.clip(voice.astype(np.float64) + noise, -32768, 32767).astype(np.int16)


def build_case(
    lang: str, turn: tuple[str, ...], pause_s: float, noise: str
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
            frag = _fragment(name, lang)
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
    if noise in BEDS:
        audio = _mixed(voice, noise)
    elif noise == "phone":
        audio, rate = phone_band(voice, RATE), 8000
    words = [known_text(n, lang).strip(" .,") for n in turn if n != "|"]
    labels = {"gaps": gaps, "lang": lang, "text": " ".join(words), "noise": noise}
    return audio, rate, labels


def build(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for i, (lang, turn) in enumerate(TURNS):
        for j, noise in enumerate(("clean", "phone", BEDS[i % len(BEDS)])):
            pause = PAUSES[(i + j) % len(PAUSES)]
            audio, rate, labels = build_case(lang, turn, pause, noise)
            stem = out / f"t{i + 1}-{lang}-{noise}-{int(pause * 1000)}ms"
            stem.with_suffix(".wav").write_bytes(write_wav(audio, rate))
            stem.with_suffix(".json").write_text(json.dumps(labels, indent=1))
            written.append(stem.with_suffix(".wav"))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "tests/turns/corpus")
    args = parser.parse_args()
    for old in args.out.glob("t*.*"):  # a rebuild leaves no case of an older layout
        old.unlink()
    files = build(args.out)
    print(f"{len(files)} cases in {args.out}")


if __name__ == "__main__":
    main()
