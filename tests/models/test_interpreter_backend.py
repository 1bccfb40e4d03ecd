"""The offline interpreter backend loads its models to answer which pairs it can serve."""

from __future__ import annotations

from agent.config import RoomConfig
from agent.modes.interpreter import backend

OFFLINE = {"provider": "offline"}


def test_offline_backend_knows_its_pairs_before_anyone_talks() -> None:
    cascade = backend(
        RoomConfig.model_validate(
            {
                "mode": "interpreter",
                "pipeline": {"kind": "cascade", "stt": OFFLINE, "llm": OFFLINE, "tts": OFFLINE},
            }
        )
    )
    assert cascade.unsupported("en", "es") is None
    assert cascade.unsupported("es", "en") is None
    reason = cascade.unsupported("en", "fr")
    assert reason is not None and "apertium-eng-fra" in reason
