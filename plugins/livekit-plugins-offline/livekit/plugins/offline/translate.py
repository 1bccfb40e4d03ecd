"""Rule-based text translation with Apertium (Debian packages such as ``apertium-eng-spa``).

No neural translation weights install here; Apertium covers the pairs it packages, one
sentence per call, which is how the interpreter feeds it.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from functools import cache
from pathlib import Path

from .models import ModelError

MODES_DIR = Path("/usr/share/apertium/modes")

_ISO3 = {
    "ca": "cat", "de": "deu", "en": "eng", "eo": "epo", "es": "spa", "eu": "eus",
    "fr": "fra", "gl": "glg", "it": "ita", "nb": "nob", "nn": "nno", "oc": "oci",
    "pt": "por", "ro": "ron", "sv": "swe", "da": "dan", "is": "isl", "an": "arg",
}  # fmt: skip
"""BCP-47 primary tags → the ISO 639-3 codes Apertium names its pairs with."""


def apertium_code(language: str) -> str:
    base = language.split("-")[0].lower()
    return _ISO3.get(base, base)


@cache
def installed_pairs() -> frozenset[str]:
    if shutil.which("apertium") is None:
        return frozenset()
    return frozenset(p.stem for p in MODES_DIR.glob("*.mode"))


def pair_for(source: str, target: str) -> str:
    pair = f"{apertium_code(source)}-{apertium_code(target)}"
    if pair not in installed_pairs():
        raise ModelError(
            f"no offline translation from {source!r} to {target!r}: install the Debian "
            f"package apertium-{pair} (or apertium-{'-'.join(reversed(pair.split('-')))}), "
            "if Apertium has that pair"
        )
    return pair


class Translator:
    """Translates one sentence at a time, between any two languages with an installed pair
    (the interface the interpreter plugin expects of a translator)."""

    def unsupported(self, source: str, target: str) -> str | None:
        try:
            pair_for(source, target)
        except ModelError as e:
            return str(e)
        return None

    async def translate(self, text: str, source: str, target: str) -> str:
        pair = pair_for(source, target)
        if not text.strip():
            return ""
        # -u drops Apertium's "*unknown" marks: a listener should hear the word, not a star.
        proc = await asyncio.create_subprocess_exec(
            "apertium", "-u", pair,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        out, err = await proc.communicate(text.encode())
        if proc.returncode != 0:
            raise RuntimeError(f"apertium {pair} failed: {err.decode().strip()}")
        return " ".join(out.decode().split())
