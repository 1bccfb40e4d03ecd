"""Faults through the real server: the fakes' switchboard (``fakes/faults.py``) breaks a
provider mid-session, and the room must keep working and say what happened."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.pipeline.quiet import PROBE_S
from agent.pipeline.stalls import STALL_S
from agent.protocol import MEETING_TRANSCRIPT
from agent.rooms import delete_room
from stack.fakes import FakeProviders
from stack.hang import hang, hanging_env
from stack.livekit_server import API_KEY, API_SECRET, LiveKitServer
from stack.participant import Participant, wait_for
from stack.recordings import clip
from stack.rooms import USER, joined_room, room_with
from stack.worker import WorkerProcess, start_worker, worker_env

from .rooms import MEASUREMENTS

SESSION_OPENED = {"openai": "realtime.session", "google": "live.session"}
"""What each realtime fake records as a session opens."""


def status_parts(user: Participant) -> set[str]:
    agent = user.agent()
    raw = agent.attributes.get("parley.status", "") if agent is not None else ""
    return {o["part"] for o in json.loads(raw)["down"]} if raw else set()


def watch_status(user: Participant, seen: set[str]) -> asyncio.Task[None]:
    """Collects each part ``parley.status`` names, however briefly, until cancelled."""

    async def watch() -> None:
        while True:
            seen.update(status_parts(user))
            await asyncio.sleep(0.05)

    return asyncio.create_task(watch())


def struck_at(fakes: FakeProviders) -> float:
    """When the fault struck, on this process's monotonic clock."""
    [struck] = [e for e in fakes.received() if e["kind"] == "fault.struck"]
    return time.monotonic() - (time.time() - float(struck["t"]))


REALTIME_FAULTS = {
    "close": ("dropped", 2.0),
    # open, and says nothing: Parley's watch (agent/pipeline/quiet.py) replaces it
    "silent": ("gone quiet", STALL_S + PROBE_S + 2.0),
}
"""Fault → what the measurement calls it, and the bound on fault → reconnected."""


@pytest.mark.parametrize(
    ("provider", "kind"),
    [("openai", "close"), ("google", "close"), ("openai", "silent"), ("google", "silent")],
)
async def test_a_realtime_socket_dropped_mid_answer_recovers_and_is_reported(
    livekit_server: LiveKitServer,
    fakes: FakeProviders,
    worker: WorkerProcess,
    recording: Path,
    provider: str,
    kind: str,
) -> None:
    what, bound_s = REALTIME_FAULTS[kind]
    fakes.reset()
    fakes.configure(faults=[])
    config = {"mode": "assistant", "pipeline": {"kind": "realtime", "provider": provider}}
    opened = SESSION_OPENED[provider]
    async with joined_room(
        livekit_server, worker.agent_name, dispatch_metadata=config, prefix=f"fault-{provider}"
    ) as user:
        room = user.room.name
        await user.wait_for_agent_state("listening")
        await user.speak(recording)
        await user.wait_for_agent_sound()
        await user.wait_for_agent_quiet(after=time.monotonic())

        # The socket goes a few events into the next turn (its transcript is lost with it).
        fault = {"stage": "realtime", "kind": kind, "after_events": 9, "stall_s": 60}
        fakes.configure(faults=[fault])
        await user.speak(recording)
        await wait_for(lambda: [e for e in fakes.received() if e["kind"] == "fault.struck"],
                       "the fault to strike")  # fmt: skip
        struck = struck_at(fakes)
        await wait_for(lambda: "provider" in status_parts(user), "parley.status to say so")

        await wait_for(lambda: len([e for e in fakes.received() if e["kind"] == opened]) >= 2,
                       "the plugin to reconnect", timeout=20)  # fmt: skip
        sessions = [e for e in fakes.received() if e["kind"] == opened]
        reconnect_s = time.monotonic() - (time.time() - float(sessions[-1]["t"])) - struck

        await user.wait_for_agent_state("listening")
        await user.speak(recording)
        v2v = await user.wait_for_agent_sound()
        await wait_for(lambda: "provider" not in status_parts(user), "parley.status to clear")
        MEASUREMENTS.append(
            f"fault {provider} realtime socket {what} mid-answer: reconnected"
            f" {reconnect_s:.2f} s after the fault; next answer v2v {v2v * 1000:.0f} ms"
        )
        assert reconnect_s <= bound_s, reconnect_s
        # The answer after the drop arrives whole, with both sides' transcripts.
        await user.wait_for_agent_quiet(after=user.speech_end or 0.0)
        await wait_for(
            lambda: len([t for t in user.transcripts if t.identity == USER and t.final]) >= 2,
            "the user's words after the drop, transcribed",
        )
        await user.leave()

    report = await worker.session_report(room)
    assert any(e.startswith("RealtimeModelError") for e in report["errors"]), report["errors"]
    assert len(report["turns"]) >= 2  # before the drop, and after it


def cascade(mode: str, tts: str = "openai") -> dict[str, Any]:
    """OpenAI's STT and LLM (the fakes, where the faults are) and ``tts``."""
    stages = {"stt": {"provider": "openai"}, "llm": {"provider": "openai"}}
    return {"mode": mode, "pipeline": {"kind": "cascade", **stages, "tts": {"provider": tts}}}


async def one_turn_under(
    server: LiveKitServer,
    fakes: FakeProviders,
    worker: WorkerProcess,
    recording: Path,
    config: dict[str, Any],
    faults: list[dict[str, Any]],
    prefix: str,
) -> tuple[str, float, set[str]]:
    """One spoken turn in a room of ``config`` while ``faults`` are set: the room's name, the
    voice-to-voice delay of the answer, and what ``parley.status`` said once it ended."""
    fakes.reset()
    fakes.configure(faults=faults)
    try:
        async with joined_room(
            server, worker.agent_name, dispatch_metadata=config, prefix=prefix
        ) as user:
            room = user.room.name
            await user.wait_for_agent_state("listening")
            await user.speak(recording)
            v2v = await user.wait_for_agent_sound(timeout=30)
            await user.wait_for_agent_quiet(after=user.speech_end or 0.0)
            told = status_parts(user)
            await user.leave()
            return room, v2v, told
    finally:
        fakes.configure(faults=[])


async def test_a_cascade_llm_that_fails_twice_is_retried_and_the_answer_comes(
    livekit_server: LiveKitServer,
    fakes: FakeProviders,
    worker: WorkerProcess,
    recording: Path,
) -> None:
    llm_503 = {"stage": "llm", "kind": "http", "status": 503, "times": 2}
    room, v2v, _ = await one_turn_under(
        livekit_server, fakes, worker, recording, cascade("assistant"), [llm_503], "fault-llm"
    )
    MEASUREMENTS.append(f"fault cascade LLM 503 twice: answered, v2v {v2v * 1000:.0f} ms")
    assert len([e for e in fakes.received() if e["kind"] == "fault"]) == 2
    report = await worker.session_report(room)
    assert len(report["errors"]) == 2 and len(report["turns"]) == 1, report


@pytest.mark.parametrize("stage", ["stt", "llm", "tts"])
async def test_a_cascade_stage_that_stays_down_hands_over_to_its_fallback(
    livekit_server: LiveKitServer,
    fakes: FakeProviders,
    worker: WorkerProcess,
    recording: Path,
    stage: str,
) -> None:
    """OpenAI's ``stage`` answers 503 to every request; the room config names the offline
    one as its fallback, and the user is answered through it, billed at nothing."""
    config = cascade("assistant")
    config["pipeline"][stage]["fallback"] = [{"provider": "offline"}]
    down = {"stage": stage, "kind": "http", "status": 503, "times": 1000}
    room, v2v, told = await one_turn_under(
        livekit_server, fakes, worker, recording, config, [down], f"fault-{stage}-fallback"
    )
    assert told == {stage}, told
    MEASUREMENTS.append(
        f"fault cascade {stage.upper()} down, offline fallback: answered, v2v {v2v * 1000:.0f} ms"
    )
    assert [e for e in fakes.received() if e["kind"] == "fault"]  # OpenAI was asked first
    report = await worker.session_report(room)
    served = [line for line in report["cost"]["lines"] if line["stage"] == stage]
    assert {line["provider"] for line in served} == {"offline"}, report["cost"]
    assert len(report["turns"]) == 1, report


@pytest.fixture(scope="module")
def hang_flag(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hang") / "stages"


@pytest.fixture(scope="module")
def hanging_worker(
    livekit_server: LiveKitServer, fakes: FakeProviders, log_dir: Path, hang_flag: Path
) -> Iterator[WorkerProcess]:
    """A worker whose offline engines hang while ``hang_flag`` names them (``stack.hang``)."""
    hang(hang_flag)
    env = worker_env(livekit_server, fakes, **hanging_env(hang_flag))
    process = start_worker(log_dir, env, agent_name="parley-hanging")
    yield process
    process.stop()


@pytest.mark.parametrize("fallback", [True, False], ids=["fallback", "alone"])
@pytest.mark.parametrize("stage", ["stt", "llm", "tts"])
async def test_a_hung_offline_engine_is_reported_and_the_room_answers(
    livekit_server: LiveKitServer,
    fakes: FakeProviders,
    hanging_worker: WorkerProcess,
    hang_flag: Path,
    recording: Path,
    stage: str,
    fallback: bool,
) -> None:
    """The offline ``stage``'s engine hangs (Whisper, the language model or espeak-ng never
    returns). With OpenAI's as its fallback, the engine's call times out after 5 s, the
    fallback answers, ``parley.status`` names the stage, and the report lists the outage
    and prices the fallback. Alone, its 10 s timeout is retried, ``parley.status`` names
    the provider meanwhile, and the answer comes once the engine is back. A hung Whisper's
    utterance is lost with its stream (livekit-agents' adapter hands a fallback the audio
    from then on): the user is answered the next time they speak."""
    stages: dict[str, dict[str, Any]] = {s: {"provider": "offline"} for s in ("stt", "llm", "tts")}
    if fallback:
        stages[stage]["fallback"] = [{"provider": "openai"}]
    config = {"mode": "assistant", "pipeline": {"kind": "cascade", **stages}}
    told = stage if fallback else "provider"
    fakes.reset()
    seen: set[str] = set()
    try:
        async with joined_room(
            livekit_server, hanging_worker.agent_name, dispatch_metadata=config, prefix="hung"
        ) as user:
            room = user.room.name
            await user.wait_for_agent_state("listening")
            watching = watch_status(user, seen)
            hang(hang_flag, stage)
            await user.speak(recording)
            await wait_for(lambda: told in seen, f"parley.status to name {told}", timeout=25)
            reported_s = time.monotonic() - (user.speech_end or 0.0)
            if not fallback:
                hang(hang_flag)  # the engine is back
            if stage == "stt":
                await user.speak(recording)
            v2v = await user.wait_for_agent_sound(timeout=40)
            await user.wait_for_agent_quiet(after=user.speech_end or 0.0)
            watching.cancel()
            await user.leave()
    finally:
        hang(hang_flag)
    assert seen == {told}, seen
    MEASUREMENTS.append(
        f"fault offline {stage.upper()} hung, {'OpenAI fallback' if fallback else 'alone'}:"
        f" parley.status {reported_s:.1f} s after the speech; answered, v2v {v2v * 1000:.0f} ms"
    )
    report = await hanging_worker.session_report(room)
    assert len(report["turns"]) == 1, report
    if not fallback:
        assert f"{stage.upper()}Error: APITimeoutError" in report["errors"], report
        return
    served = [line for line in report["cost"]["lines"] if line["stage"] == stage]
    assert "openai" in {line["provider"] for line in served}, report["cost"]
    assert any("unavailable, a fallback serves" in e for e in report["errors"]), report


async def test_a_meeting_speaker_whose_stt_fails_is_heard_again_and_the_room_told(
    livekit_server: LiveKitServer, fakes: FakeProviders, worker: WorkerProcess
) -> None:
    fakes.reset()
    fakes.configure(faults=[], transcripts=["Before the outage.", "After the outage."])
    seen: set[str] = set()
    try:
        async with room_with(
            livekit_server,
            worker.agent_name,
            {"alice": {}},
            dispatch_metadata=cascade("meeting", "offline"),
            prefix="fault-meeting",
        ) as people:
            alice = people["alice"]
            alice.watch(MEETING_TRANSCRIPT)
            await alice.wait_for_agent_state("listening", timeout=60)

            watching = watch_status(alice, seen)
            await alice.speak(clip("conf-onlyperson"))
            await wait_for(lambda: len(lines(alice)) == 1, "the first line")

            # Every attempt of the plugin's own retries fails: the stream itself gives up.
            fakes.configure(faults=[{"stage": "stt", "kind": "http", "status": 503, "times": 4}])
            await alice.speak(clip("vm-nobodyavail"))
            await wait_for(lambda: "stt" in seen, "parley.status to say alice is not heard")
            await wait_for(lambda: not fakes.configure()["faults"],
                           "the plugin to use up the faults", timeout=30)  # fmt: skip
            await wait_for(lambda: "stt" not in status_parts(alice), "the stream reopened")

            await alice.speak(clip("tt-weasels"))
            await wait_for(lambda: len(lines(alice)) == 2, "a line after the outage")
            watching.cancel()
    finally:
        fakes.configure(faults=[], transcripts=[])
    assert [line["text"] for line in lines(alice)] == ["Before the outage.", "After the outage."]
    assert "speech-to-text failed on" in worker.process.log_text()


def lines(p: Participant) -> list[dict[str, Any]]:
    return [json.loads(t.text) for t in p.texts.get(MEETING_TRANSCRIPT, [])]


@pytest.mark.parametrize("stage", ["stt", "llm", "tts"])
async def test_a_cascade_stage_that_stalls_is_cut_off_and_the_answer_comes(
    livekit_server: LiveKitServer,
    fakes: FakeProviders,
    worker: WorkerProcess,
    recording: Path,
    stage: str,
) -> None:
    """OpenAI's ``stage`` says nothing for 30 s on its first request: the user is answered
    once the retry does, not after the stall."""
    stall = {"stage": stage, "kind": "stall", "stall_s": 30, "times": 1}
    room, v2v, _ = await one_turn_under(
        livekit_server,
        fakes,
        worker,
        recording,
        cascade("assistant"),
        [stall],
        f"fault-{stage}-stall",
    )
    MEASUREMENTS.append(
        f"fault cascade {stage.upper()} stalls 30 s: answered, v2v {v2v * 1000:.0f} ms"
    )
    report = await worker.session_report(room)
    assert report["errors"] and len(report["turns"]) == 1, report


DOWN = {"kind": "http", "status": 503, "times": 1000}
INTERPRETER_FAULTS: dict[str, tuple[str, list[dict[str, Any]], str | None]] = {
    "llm-503": ("llm", [DOWN], "voice"),
    "tts-503": ("tts", [DOWN], "voice"),
    # the live transcription socket drops, and every reconnect is refused
    "stt-503": ("stt", [{"kind": "close"}, DOWN], "stt"),
    # the live transcription socket goes quiet: Parley's StallWatch reopens it
    "stt-silent": ("stt", [{"kind": "silent", "stall_s": 60}], None),
}
"""Case → the OpenAI stage that fails, its faults, and the part ``parley.status`` names
while it is down (none: the stage's own retry mends it)."""


@pytest.mark.parametrize("case", list(INTERPRETER_FAULTS))
async def test_an_interpreter_stage_that_fails_for_a_sentence_recovers_and_the_room_is_told(
    livekit_server: LiveKitServer, fakes: FakeProviders, worker: WorkerProcess, case: str
) -> None:
    """OpenAI's ``stage`` fails on all of alice's first sentence: that sentence is lost,
    bruno's room is told (unless a retry mends it unseen), the session report lists it, and
    her next sentence reaches him in Spanish."""
    stage, faults, part = INTERPRETER_FAULTS[case]
    stages = {s: {"provider": "openai" if s == stage else "offline"} for s in ("stt", "llm", "tts")}
    config = {"mode": "interpreter", "pipeline": {"kind": "cascade", **stages}}
    people = {"alice": {"language": "en"}, "bruno": {"language": "es"}}
    fakes.reset()
    seen: set[str] = set()
    try:
        async with room_with(
            livekit_server,
            worker.agent_name,
            people,
            dispatch_metadata=config,
            prefix=f"fault-interp-{case}",
        ) as room:
            alice, bruno = room["alice"], room["bruno"]
            name = alice.room.name
            await bruno.wait_for_agent_track("interpretation-es", timeout=60)

            watching = watch_status(bruno, seen)
            fakes.configure(faults=[{"stage": stage, **f} for f in faults])
            await alice.speak(clip("conf-onlyperson"))
            said = alice.speech_end or time.monotonic()
            if part is None:
                await wait_for(lambda: reopened_after_the_fault(fakes), "the quiet socket replaced",
                               timeout=30)  # fmt: skip
                MEASUREMENTS.append(
                    f"fault interpreter {case}: socket replaced {time.monotonic() - said:.2f} s"
                    " after the lost sentence's end"
                )
            else:
                await wait_for(lambda: part in seen, f"parley.status to name {part}")
            fakes.configure(faults=[])  # the provider is back
            if part == "stt":  # alice is heard again once her stream reopens, after its backoff
                await wait_for(lambda: part not in status_parts(bruno), "the stream reopened")
            struck = time.monotonic()
            await alice.speak(clip("agent-pass"))
            await wait_for(lambda: any(t > struck for t in
                                       bruno.sound_by_track.get("interpretation-es", [])),
                           "Spanish after the outage")  # fmt: skip
            heard_s = min(t for t in bruno.sound_by_track["interpretation-es"] if t > struck)
            await wait_for(lambda: not status_parts(bruno), "parley.status to clear")
            watching.cancel()
            MEASUREMENTS.append(
                f"fault interpreter {case}: next sentence interpreted, first Spanish"
                f" {heard_s - (alice.speech_end or struck):+.2f} s after its end"
            )
        await delete_room(livekit_server.url, API_KEY, API_SECRET, name)
    finally:
        fakes.configure(faults=[])
    report = await worker.session_report(name)
    expected = f"{part}:" if part else "stt: APITimeoutError, retried"
    assert any(e.startswith(expected) for e in report["errors"]), report["errors"]


def reopened_after_the_fault(fakes: FakeProviders) -> bool:
    """A transcription session opened after the fault struck."""
    received = fakes.received()
    struck = [float(e["t"]) for e in received if e["kind"] == "fault.struck"]
    return bool(struck) and any(
        e["kind"] == "realtime.session" and e.get("intent") == "transcription"
        and float(e["t"]) > struck[0]
        for e in received
    )  # fmt: skip
