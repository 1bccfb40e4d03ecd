"""Smart Turn v3.2: pipecat's audio end-of-turn model (BSD-2), 8 MB of ONNX, run on the CPU.

It reads the last 8 s of the user's audio (Whisper log-mel features) and says how likely the
turn is complete, in 23 languages. The weights and the feature code come inside the
``pipecat-ai`` wheel, which scripts/setup installs without its framework dependencies: the
files are read from the installed distribution and ``pipecat`` itself is never imported (its
package init pulls in the whole framework).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from functools import cache
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any, cast

import numpy as np

RATE = 16_000
WINDOW_S = 8
THRESHOLD = 0.5
"""The model's own decision point (a sigmoid output)."""
_FILES = "pipecat/audio/turn/smart_turn/"
_INSTALL = "run scripts/setup (it installs the pipecat-ai wheel for Smart Turn's weights)"


class SmartTurnMissing(RuntimeError):
    pass


def _file(name: str) -> Path:
    try:
        path = Path(str(distribution("pipecat-ai").locate_file(_FILES + name)))
    except PackageNotFoundError:
        raise SmartTurnMissing(f"pipecat-ai is not installed: {_INSTALL}") from None
    if not path.exists():
        raise SmartTurnMissing(f"{path} is missing from pipecat-ai: {_INSTALL}")
    return path


class SmartTurn:
    def __init__(self) -> None:
        import onnxruntime as ort

        spec = importlib.util.spec_from_file_location(
            "smart_turn_features", _file("_whisper_features.py")
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        self._features = cast(Callable[..., np.ndarray], module.compute_whisper_log_mel_features)
        options = ort.SessionOptions()
        # One thread: rooms run side by side, and a prediction takes ~30 ms on one core.
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        self._session: Any = ort.InferenceSession(
            str(_file("data/smart-turn-v3.2-cpu.onnx")),
            sess_options=options,
            providers=["CPUExecutionProvider"],
        )

    def probability(self, pcm: np.ndarray) -> float:
        """``pcm``: int16 at 16 kHz, the turn so far (only its last 8 s are read)."""
        x = pcm[-WINDOW_S * RATE :].astype(np.float32) / 32768
        x = np.pad(x, (WINDOW_S * RATE - len(x), 0))
        features = self._features(x, do_normalize=True)[None]
        out = self._session.run(None, {"input_features": features})  # thread-safe in ORT
        return float(out[0][0][0])


@cache
def smart_turn() -> SmartTurn:
    """Loaded once per process (~0.3 s)."""
    return SmartTurn()
