"""The offline cascade through the real server: a worker with no keys hears, thinks, speaks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from livekit.plugins import offline, silero

from stack.fakes import FakeProviders
from stack.livekit_server import LiveKitServer
from stack.participant import SAMPLE_RATE
from stack.recordings import SOUNDS, clip, known_text, paused, word_error_rate
from stack.rooms import converse, joined_room
from stack.worker import WorkerProcess, start_worker

from ..models.conftest import pcm_frame
from .rooms import MEASUREMENTS, worker_env

CLIPS = ("agent-pass", "conf-onlyperson", "vm-nobodyavail")


@pytest.fixture(scope="module")
def keyless_worker(
    livekit_server: LiveKitServer, fakes: FakeProviders, log_dir: Path
) -> Iterator[WorkerProcess]:
    """No provider key at all: the worker's default is the offline cascade."""
    env = worker_env(
        livekit_server, fakes, OPENAI_API_KEY="", GOOGLE_API_KEY="", PARLEY_IDLE_PROCESSES="1"
    )
    process = start_worker(log_dir, env, agent_name="parley-offline")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def ear() -> offline.STT:
    """The same STT the agent uses, to check what the agent said."""
    return offline.STT(vad=silero.VAD.load(), language="en")


async def test_offline_default_hears_answers_and_is_understood(
    livekit_server: LiveKitServer, keyless_worker: WorkerProcess, ear: offline.STT
) -> None:
    async with joined_room(livekit_server, keyless_worker.agent_name, prefix="offline") as user:
        for name in CLIPS:
            turn = await converse(user, clip(name))
            MEASUREMENTS.append(f"offline cascade v2v ({name}): {turn.v2v_s * 1000:.0f} ms")
            wer = word_error_rate(known_text(name), turn.user_transcript)
            assert wer <= 0.3, (name, turn.user_transcript)
            answer = await ear.recognize(pcm_frame(turn.agent_audio, SAMPLE_RATE))
            assert len(answer.alternatives[0].text.split()) >= 2, answer
            assert {"transcription_delay", "llm_ttft", "tts_ttfb", "e2e_latency"} <= set(
                turn.timing
            ), turn.timing


async def test_an_answer_begun_in_a_pause_is_not_taken_for_the_answer(
    livekit_server: LiveKitServer, keyless_worker: WorkerProcess, ear: offline.STT
) -> None:
    """The stock turn-taking answers in a 1.6 s pause and the user's last word cuts that
    reply off: what the user gets as the answer is the reply that follows, whole."""
    five = SOUNDS / "en" / "digits" / "5.wav"
    async with joined_room(livekit_server, keyless_worker.agent_name, prefix="paused") as user:
        for _ in range(2):
            turn = await converse(user, paused(clip("conf-onlyperson"), 1.6, five))
            answer = await ear.recognize(pcm_frame(turn.agent_audio, SAMPLE_RATE))
            assert len(answer.alternatives[0].text.split()) >= 2, answer
            assert turn.timing["interrupted"] is False


async def test_a_missing_model_is_reported_to_the_room(
    livekit_server: LiveKitServer, keyless_worker: WorkerProcess
) -> None:
    stages = {"stt": {}, "llm": {"model": "no.gguf"}, "tts": {}}
    config = {
        "pipeline": {"kind": "cascade"}
        | {k: {"provider": "offline"} | v for k, v in stages.items()}
    }
    async with joined_room(
        livekit_server, keyless_worker.agent_name, dispatch_metadata=config, prefix="nomodel"
    ) as user:
        error = json.loads(await user.wait_for_agent_attribute("parley.error", timeout=60))
    assert error["code"] == "model_unavailable" and error["field"] == "pipeline.llm.model"
    # The room learns which of its names is missing, not where the worker keeps models.
    assert "no.gguf" in error["message"] and str(keyless_worker.data_dir) not in error["message"]
