"""Rule-based text translation with Apertium (Debian packages such as ``apertium-eng-spa``).

No neural translation weights install here; Apertium covers the pairs it packages, one
sentence per call, which is how the interpreter feeds it, through a pipeline kept running per
pair.
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


_SPECIAL = set("[]^$/\\@<>{}")
_BLANK = "[][\n]"
"""The superblank Apertium's text deformatter puts at a line end; it comes back unchanged."""
_TIMEOUT_S = 10.0


class _Pipeline:
    """One long-lived Apertium pipeline for a pair, in null-flush mode: a sentence costs a
    few milliseconds instead of ~300 ms of process start-ups (the ``apertium`` script cannot
    stream: its text deformatting buffers)."""

    def __init__(self, pair: str) -> None:
        self.pair = pair
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    async def _start(self) -> asyncio.subprocess.Process:
        wblank = await asyncio.create_subprocess_exec(
            "apertium-wblank-mode", "-z", str(MODES_DIR / f"{self.pair}.mode"),
            stdout=subprocess.PIPE,
        )  # fmt: skip
        mode = (await wblank.communicate())[0].decode().strip()
        # $1: generation without "*unknown" marks (a listener should hear the word, not a
        # star); $2: the tagger's default options.
        command = mode.replace("$1", "-n").replace("$2", "") + " | apertium-wblank-detach"
        return await asyncio.create_subprocess_exec(
            "bash", "-c", command,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    async def translate(self, text: str) -> str:
        escaped = "".join("\\" + c if c in _SPECIAL else c for c in " ".join(text.split()))
        async with self._lock:
            if self._proc is None or self._proc.returncode is not None:
                self._proc = await self._start()
            proc = self._proc
            assert proc.stdin and proc.stdout
            try:
                proc.stdin.write((escaped + _BLANK + "\0").encode())
                await proc.stdin.drain()
                out = await asyncio.wait_for(proc.stdout.readuntil(b"\0"), _TIMEOUT_S)
            except (OSError, TimeoutError, asyncio.IncompleteReadError) as e:
                proc.kill()
                self._proc = None
                raise RuntimeError(f"apertium {self.pair} stopped answering ({e!r})") from None
        translated = out.decode().rstrip("\0").replace(_BLANK, "")
        return " ".join(translated.replace("\\", "").split())


class Translator:
    """Translates one sentence at a time, between any two languages with an installed pair
    (the interface the interpreter plugin expects of a translator)."""

    def unsupported(self, source: str, target: str) -> str | None:
        try:
            pair_for(source, target)
        except ModelError as e:
            return str(e)
        return None

    def __init__(self) -> None:
        self._pipelines: dict[str, _Pipeline] = {}

    async def translate(self, text: str, source: str, target: str) -> str:
        pair = pair_for(source, target)
        if not text.strip():
            return ""
        pipeline = self._pipelines.setdefault(pair, _Pipeline(pair))
        return await pipeline.translate(text)
