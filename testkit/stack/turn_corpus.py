"""The turn-taking corpus, built reproducibly from real recordings: the asterisk prompts of six
voices in five languages (asterisk-core-sounds-{en,es,fr,it,ru}-wav,
asterisk-prompt-it-menardi-wav) and the five hold-music tracks of asterisk-moh-opsound-wav.

    scripts/build-turn-corpus [--out tests/turns/corpus]

Two parts, written to ``OUT/tune`` and ``OUT/check``, share nothing but the kind of audio:
the check part has its own turns (other words), its own voices where a language has more than
one (Italian, Russian), its own music tracks and its own babble talkers. Tune presets on
``tune``; ``check`` says whether what was tuned holds on audio it has not seen.

Each case is one user turn made of recorded fragments ("You have … five new messages",
"Usted tiene … cinco nuevos mensajes"), with one or two pauses of 0.3–1.8 s where the speaker
stops, inside a sentence or between two (``mid`` gaps, labelled ``after`` "words" or
"sentence"), then 3 s of quiet after the last word (the ``end`` gap).
Each turn comes in two of seven conditions, in rotation: clean; hold music at 10 and at 3 dB
SNR; six-talker babble at 10 dB; a TV-like bed (one talker over music) at 10 dB; a phone line
(300–3400 Hz, 8 kHz, μ-law); the same line losing 5 % of its 20 ms packets. The background
sound starts before the speech and goes on through the pauses and after the turn, as a room's
does. Deterministic: same files on every machine.
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from fakes.audio import read_wav, resample, voiced_span, write_wav

from .phone import Line, LineQuality
from .process import ROOT
from .recordings import SOUNDS, known_text, phone_band

RATE = 16_000
LEAD_S = 0.5
TAIL_S = 3.0
PAUSES = (0.3, 0.6, 0.9, 1.2, 1.5, 1.8)
NOISES = ("clean", "music-10db", "music-3db", "babble-10db", "tv-10db", "phone", "phone-loss")
MOH = Path("/usr/share/asterisk/moh")

Part = Literal["tune", "check"]


@dataclass(frozen=True)
class Voice:
    name: str
    lang: str
    folder: str
    """Under /usr/share/asterisk/sounds."""


ALLISON_EN = Voice("allison-en", "en", "en_US_f_Allison")
ALLISON_ES = Voice("allison-es", "es", "es_MX_f_Allison")
VOICES: dict[Part, tuple[Voice, ...]] = {
    "tune": (
        ALLISON_EN,
        ALLISON_ES,
        Voice("june-fr", "fr", "fr_CA_f_June"),
        Voice("carlo-it", "it", "it_IT_m_Carlo"),
    ),
    # English and Spanish have one asterisk voice each: their check cases say other words.
    "check": (
        ALLISON_EN,
        ALLISON_ES,
        Voice("menardi-it", "it", "it_IT_f_Menardi"),
        Voice("ivr-ru", "ru", "ru_RU_f_IvrvoiceRU"),
    ),
}
# "|" is where the speaker pauses inside a sentence ("you have | five new messages"), "/"
# where they pause after a whole one with more to say (each prompt was recorded as its own
# sentence: there it ends with a sentence's final fall, and only the pause's length tells).
PAUSE_AFTER = {"|": "words", "/": "sentence"}
TURNS: dict[Part, tuple[tuple[str, ...], ...]] = {
    "tune": (
        ("vm-youhave", "|", "digits/5", "vm-INBOX", "vm-messages"),
        ("vm-enter-num-to-call", "/", "digits/5", "digits/2"),
        ("conf-onlyperson", "/", "conf-placeintoconf"),
        ("vm-youhave", "digits/2", "|", "vm-messages"),
        ("agent-newlocation", "/", "conf-getpin"),
        ("queue-thereare", "|", "digits/3", "|", "queue-callswaiting"),
        ("vm-theperson", "|", "digits/5", "digits/7", "|", "vm-isunavail"),
    ),
    "check": (
        ("vm-youhave", "digits/3", "vm-Old", "|", "vm-messages"),
        ("vm-tocallnum", "/", "digits/1", "digits/7"),
        ("queue-youarenext", "/", "vm-press", "digits/1"),
        ("vm-forwardoptions", "/", "vm-star-cancel"),
        ("vm-savedto", "|", "vm-INBOX"),
        ("vm-for", "vm-INBOX", "vm-messages", "|", "vm-press", "|", "digits/2"),
        ("privacy-unident", "/", "vm-pls-try-again"),
    ),
}
TALKERS: dict[Part, tuple[str, ...]] = {
    "tune": ("pbx-invalid", "tt-weasels", "vm-nobodyavail", "conf-getpin", "auth-thankyou"),
    "check": ("dir-welcome", "vm-login", "vm-newuser", "vm-intro", "vm-reachoper"),
}
MUSIC: dict[Part, tuple[str, ...]] = {
    "tune": ("macroform-cold_day", "macroform-robot_dity"),
    "check": ("macroform-the_simplicity", "manolo_camp-morning_coffee", "reno_project-system"),
}
LOSSY_LINE = LineQuality(loss=0.05)


@cache  # the noise beds and repeated fragments are read once per build, not per case
def _fragment(name: str, folder: str) -> np.ndarray:
    path = SOUNDS / folder / f"{name}.wav"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run scripts/setup (the asterisk prompts)")
    samples, rate = read_wav(path.read_bytes())
    pcm = resample(samples, rate, RATE)
    start, end = voiced_span(pcm, RATE)
    return pcm[start:end]


@cache
def hold_music(track: str) -> np.ndarray:
    """One of asterisk-moh-opsound-wav's tracks at 16 kHz (float, int16 scale)."""
    path = MOH / f"{track}.wav"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run scripts/setup (asterisk-moh-opsound-wav)")
    samples, rate = read_wav(path.read_bytes())
    return resample(samples, rate, RATE).astype(np.float64)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) or 1.0


def _looped(x: np.ndarray, length: int, offset: int) -> np.ndarray:
    return np.resize(np.roll(x, -(offset % len(x))), length)


def _talker(part: Part, i: int, length: int) -> np.ndarray:
    """One background talker at unit RMS: the part's prompts in its own order and voice, with
    the short gaps of running speech, from its own offset."""
    voices = VOICES[part]
    folder = voices[i % len(voices)].folder
    names = TALKERS[part][i % 5 :] + TALKERS[part][: i % 5]
    gap = np.zeros(int(0.15 * RATE))
    stream = np.concatenate([p for n in names for p in (_fragment(n, folder), gap)])
    out = _looped(stream.astype(np.float64), length, i * 7919)
    return out / _rms(out)


def _bed(part: Part, kind: str, length: int, seed: int) -> np.ndarray:
    """Background sound at unit RMS: hold music; six talkers at once (speech-like, but no one
    voice to follow); or a TV (one talker over music, both dulled as a room does)."""
    tracks = MUSIC[part]
    if kind == "music":
        bed = _looped(hold_music(tracks[seed % len(tracks)]), length, seed * 48_611)
    elif kind == "babble":
        bed = sum((_talker(part, seed + i, length) for i in range(6)), np.zeros(length))
    else:
        music = _looped(hold_music(tracks[(seed + 1) % len(tracks)]), length, seed * 31_337)
        bed = _talker(part, seed + 3, length) + 0.7 * music / _rms(music)
        spectrum = np.fft.rfft(bed)
        spectrum[np.fft.rfftfreq(length, 1 / RATE) > 5000] *= 0.2
        bed = np.fft.irfft(spectrum, length)
    return bed / _rms(bed)


def _over(voice: np.ndarray, bed: np.ndarray, snr_db: float) -> np.ndarray:
    noise = bed * _rms(voice[voice != 0]) * 10 ** (-snr_db / 20)
    return np.clip(voice.astype(np.float64) + noise, -32768, 32767).astype(np.int16)


def _lossy(pcm8k: np.ndarray, seed: int) -> np.ndarray:
    line, n = Line(LOSSY_LINE, seed), 160  # 20 ms packets at 8 kHz
    return np.concatenate([line.carry(pcm8k[i : i + n]) for i in range(0, len(pcm8k), n)])


def build_case(
    part: Part, voice: Voice, turn: tuple[str, ...], pause_s: float, noise: str, seed: int
) -> tuple[np.ndarray, int, dict[str, Any]]:
    pieces: list[np.ndarray] = [np.zeros(int(LEAD_S * RATE), dtype=np.int16)]
    mids: list[tuple[int, int, str]] = []
    t = len(pieces[0])
    for k, name in enumerate(turn):
        if name in PAUSE_AFTER:
            pause = int(pause_s * (1 + 0.3 * len(mids)) * RATE)  # a second pause runs longer
            mids.append((t, t + pause, PAUSE_AFTER[name]))
            pieces.append(np.zeros(pause, dtype=np.int16))
            t += pause
        else:
            if k and turn[k - 1] not in PAUSE_AFTER:  # between words
                pieces.append(np.zeros(int(0.08 * RATE), dtype=np.int16))
                t += int(0.08 * RATE)
            frag = _fragment(name, voice.folder)
            pieces.append(frag)
            t += len(frag)
    voice_pcm = np.concatenate([*pieces, np.zeros(int(TAIL_S * RATE), dtype=np.int16)])

    def gap(start: int, end: int, kind: str) -> dict[str, Any]:
        return {"start": round(start / RATE, 3), "end": round(end / RATE, 3), "kind": kind}

    gaps = [{**gap(a, b, "mid"), "after": after} for a, b, after in mids]
    gaps.append(gap(t, len(voice_pcm), "end"))
    audio, rate = voice_pcm, RATE
    kind, _, level = noise.partition("-")
    if level.endswith("db"):
        audio = _over(voice_pcm, _bed(part, kind, len(voice_pcm), seed), float(level[:-2]))
    elif kind == "phone":
        audio, rate = phone_band(voice_pcm, RATE), 8000
        if level == "loss":
            audio = _lossy(audio, seed)
    words = [known_text(n, voice.lang).strip(" .,") for n in turn if n not in PAUSE_AFTER]
    labels = {
        "gaps": gaps,
        "lang": voice.lang,
        "text": " ".join(words),
        "noise": noise,
        "voice": voice.name,
    }
    return audio, rate, labels


def build_part(part: Part, out: Path) -> list[Path]:
    """Every turn in every voice of the part, each in two conditions: 7 × 4 × 2 cases."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    conditions = itertools.cycle(NOISES)
    pauses = itertools.cycle(PAUSES)
    for i, turn in enumerate(TURNS[part]):
        for voice in VOICES[part]:
            for _ in range(2):
                noise, pause = next(conditions), next(pauses)
                seed = len(written)
                audio, rate, labels = build_case(part, voice, turn, pause, noise, seed)
                stem = out / f"t{i + 1}-{voice.name}-{noise}-{int(pause * 1000)}ms"
                stem.with_suffix(".wav").write_bytes(write_wav(audio, rate))
                stem.with_suffix(".json").write_text(json.dumps(labels, indent=1))
                written.append(stem.with_suffix(".wav"))
    return written


def build(out: Path) -> dict[Part, list[Path]]:
    parts: tuple[Part, ...] = ("tune", "check")
    return {part: build_part(part, out / part) for part in parts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "tests/turns/corpus")
    args = parser.parse_args()
    for old in args.out.glob("**/t*.*"):  # a rebuild leaves no case of an older layout
        old.unlink()
    for part, files in build(args.out).items():
        print(f"{len(files)} cases in {args.out / part}")


if __name__ == "__main__":
    main()
