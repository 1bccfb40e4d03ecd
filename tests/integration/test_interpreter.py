"""The interpreter mode through the real server: real English and Spanish recordings, three
listeners, one interpretation track per language, captions, permissions, overlap."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from livekit import rtc

from agent.rooms import delete_room, token
from stack import tiny_seamless
from stack.fakes import FakeProviders
from stack.livekit_server import API_KEY, API_SECRET, LiveKitServer
from stack.participant import Participant, Transcript, wait_for
from stack.recordings import clip
from stack.rooms import room_with
from stack.worker import WorkerProcess, start_worker

from .rooms import MEASUREMENTS, worker_env

FRENCH = {"language": "fr"}
PEOPLE = {"alice": {"language": "en"}, "bruno": {"language": "es"}, "chloe": FRENCH}
# Real recognition (Whisper) and real voices (espeak-ng); translation by an LLM, which the
# OpenAI fake stands in for (it answers every request with the same sentence).
LLM_CASCADE = {
    "mode": "interpreter",
    "pipeline": {
        "kind": "cascade",
        "stt": {"provider": "offline"},
        "llm": {"provider": "openai"},
        "tts": {"provider": "offline"},
    },
}
OFFLINE = {"provider": "offline"}
OFFLINE_CASCADE = {
    "mode": "interpreter",
    "pipeline": {"kind": "cascade", "stt": OFFLINE, "llm": OFFLINE, "tts": OFFLINE},
}


def sound_after(listener: Participant, track: str, t: float) -> bool:
    return any(at > t for at in listener.sound_by_track.get(track, []))


def captions(listener: Participant, **attrs: str) -> list[Transcript]:
    return [
        c for c in listener.transcripts if all(c.attributes.get(k) == v for k, v in attrs.items())
    ]


def fr_captions(listener: Participant, speaker: str) -> list[Transcript]:
    return captions(listener, **{"parley.speaker": speaker, "parley.target_language": "fr"})


async def agent_tracks(p: Participant, names: set[str]) -> dict[str, rtc.RemoteTrackPublication]:
    def published() -> dict[str, rtc.RemoteTrackPublication]:
        agent = p.agent()
        pubs = agent.track_publications.values() if agent else []
        return {pub.name: pub for pub in pubs if pub.name in names}

    await wait_for(lambda: len(published()) == len(names), f"agent tracks {names}")
    return published()


async def test_three_languages_hear_each_other(
    livekit_server: LiveKitServer, worker: WorkerProcess
) -> None:
    tracks = {f"interpretation-{lang}" for lang in ("en", "es", "fr")}
    async with room_with(
        livekit_server, worker.agent_name, PEOPLE, dispatch_metadata=LLM_CASCADE, prefix="interp"
    ) as room:
        alice, bruno, chloe = room["alice"], room["bruno"], room["chloe"]
        await agent_tracks(chloe, tracks)
        # Auto-subscription is on, yet each listener receives only its own language's track.
        await wait_for(lambda: chloe.heard_tracks == {"interpretation-fr"}, "chloe's track")
        await asyncio.sleep(1.0)
        assert alice.heard_tracks == {"interpretation-en"}
        assert bruno.heard_tracks == {"interpretation-es"}

        # Subscribing on purpose to another language's track is refused by permissions.
        spanish = (await agent_tracks(chloe, tracks))["interpretation-es"]
        spanish.set_subscribed(True)
        await asyncio.sleep(2.0)
        assert "interpretation-es" not in chloe.heard_tracks

        started = time.monotonic()
        await alice.speak(clip("agent-pass"))
        await wait_for(lambda: sound_after(bruno, "interpretation-es", started), "es speech")
        await wait_for(lambda: sound_after(chloe, "interpretation-fr", started), "fr speech")
        first_es = min(t for t in bruno.sound_by_track["interpretation-es"] if t > started)
        after_end = first_es - (alice.speech_end or started)
        MEASUREMENTS.append(
            f"interpreter: first translated audio {after_end:+.2f} s after speech end"
        )
        assert not sound_after(alice, "interpretation-en", started)  # nobody hears themselves

        # Captions: the original to everyone, each translation to its listeners only.
        await wait_for(lambda: captions(bruno, **{"parley.target_language": "es"}), "es caption")
        es = captions(bruno, **{"parley.target_language": "es"})[0].attributes
        assert es["parley.speaker"] == "alice" and es["parley.source_language"] == "en"
        assert es["lk.transcription_final"] == "true"

        def original() -> list[Transcript]:
            finals = captions(
                chloe, **{"parley.speaker": "alice", "lk.transcription_final": "true"}
            )
            return [c for c in finals if "parley.target_language" not in c.attributes]

        await wait_for(original, "the original's final caption")
        assert original()[0].attributes["parley.source_language"] == "en"
        alice_track = next(iter(alice.room.local_participant.track_publications))
        assert original()[0].attributes["lk.transcribed_track_id"] == alice_track
        assert not captions(chloe, **{"parley.target_language": "es"})
        assert not [
            c
            for p in room.values()
            for c in p.transcripts
            if c.attributes.get("parley.target_language")
            and c.attributes["parley.target_language"] == c.attributes["parley.source_language"]
        ]

        # Two people at once: both are translated for the third, neither is dropped.
        await asyncio.gather(
            alice.speak(clip("conf-onlyperson")), bruno.speak(clip("vm-nobodyavail", "es"))
        )
        for speaker in ("alice", "bruno"):
            await wait_for(
                lambda s=speaker: (
                    len(captions(chloe, **{"parley.speaker": s, "parley.target_language": "fr"}))
                    >= (2 if s == "alice" else 1)
                ),
                f"fr caption of {speaker}",
            )
        lag = json.loads(await chloe.wait_for_agent_attribute("parley.interpreter_lag"))
        assert lag["utterances"] >= 1


async def test_late_joiner_language_change_and_leaver(
    livekit_server: LiveKitServer, worker: WorkerProcess
) -> None:
    people = {"alice": {"language": "en"}, "bruno": {"language": "es"}}
    async with room_with(
        livekit_server, worker.agent_name, people, dispatch_metadata=LLM_CASCADE, prefix="late"
    ) as room:
        await room["bruno"].wait_for_agent_track("interpretation-es")
        dave = Participant()
        name = room["alice"].room.name
        await dave.join(livekit_server.url, token(API_KEY, API_SECRET, name, "dave", FRENCH))
        try:
            await dave.wait_for_agent_track("interpretation-fr")  # published for the newcomer
            await dave.room.local_participant.set_attributes({"language": "es"})
            await dave.wait_for_agent_track("interpretation-es")
            # Nobody listens in French any more: the track is gone.
            await wait_for(lambda: dave.heard_tracks == {"interpretation-es"}, "fr unpublished")
            await room["bruno"].leave()
            started = time.monotonic()
            await room["alice"].speak(clip("conf-onlyperson"))
            await wait_for(lambda: sound_after(dave, "interpretation-es", started), "es speech")
        finally:
            await dave.leave()


@pytest.mark.parametrize("provider", ["openai", "google"])
async def test_realtime_models_interpret_speech_to_speech(
    provider: str, livekit_server: LiveKitServer, fakes: FakeProviders, worker: WorkerProcess
) -> None:
    people = {"alice": {"language": "en"}, "bruno": {"language": "es"}}
    config = {"mode": "interpreter", "pipeline": {"kind": "realtime", "provider": provider}}
    async with room_with(
        livekit_server, worker.agent_name, people, dispatch_metadata=config, prefix=provider
    ) as room:
        alice, bruno = room["alice"], room["bruno"]
        await bruno.wait_for_agent_track("interpretation-es")
        started = time.monotonic()
        await alice.speak(clip("agent-pass"))
        await wait_for(lambda: sound_after(bruno, "interpretation-es", started), "es speech")
        assert not sound_after(alice, "interpretation-en", started)
        await wait_for(lambda: captions(bruno, **{"parley.target_language": "es"}), "caption")
        caption = captions(bruno, **{"parley.target_language": "es"})[0].attributes
        assert caption["parley.speaker"] == "alice" and caption["parley.source_language"] == "en"
        name = alice.room.name
    # The provider was told to interpret en → es, not to answer.
    told = json.dumps([e for e in fakes.received() if e.get("provider") == provider])
    assert "simultaneous interpreter" in told and "code en" in told and "code es" in told

    # The room ends: its session report has what the sessions used, and what it cost.
    await delete_room(livekit_server.url, API_KEY, API_SECRET, name)
    report = await worker.session_report(name)
    assert report["mode"] == "interpreter" and report["errors"] == []
    assert report["usage"] and report["cost"]["total_dollars"] > 0, report


@pytest.fixture(scope="module")
def keyless_interpreter(
    livekit_server: LiveKitServer, fakes: FakeProviders, log_dir: Path
) -> Iterator[WorkerProcess]:
    env = worker_env(livekit_server, fakes, OPENAI_API_KEY="", GOOGLE_API_KEY="")
    process = start_worker(log_dir, env, agent_name="parley-interp-offline")
    yield process
    process.stop()


async def test_offline_interpreter_translates_english_to_spanish(
    livekit_server: LiveKitServer, keyless_interpreter: WorkerProcess
) -> None:
    people = {"alice": {"language": "en"}, "bruno": {"language": "es"}}
    async with room_with(
        livekit_server, keyless_interpreter.agent_name, people, dispatch_metadata=OFFLINE_CASCADE
    ) as room:
        await agent_tracks(room["bruno"], {"interpretation-es"})
        started = time.monotonic()
        await room["alice"].speak(clip("agent-pass"))
        await wait_for(lambda: sound_after(room["bruno"], "interpretation-es", started), "speech")

        def spanish() -> str:
            return " ".join(
                c.text for c in captions(room["bruno"], **{"parley.target_language": "es"})
            ).lower()

        # The sentence arrives in clauses; Apertium's "password" is in a later one.
        await wait_for(lambda: "contraseña" in spanish(), "'contraseña' in the es captions")


async def test_an_unsupported_pair_is_reported_before_anyone_talks(
    livekit_server: LiveKitServer, keyless_interpreter: WorkerProcess
) -> None:
    people = {"alice": {"language": "en"}, "chloe": {"language": "fr"}}
    async with room_with(
        livekit_server, keyless_interpreter.agent_name, people, dispatch_metadata=OFFLINE_CASCADE
    ) as room:
        error = json.loads(await room["alice"].wait_for_agent_attribute("parley.error"))
    assert error["code"] == "unsupported_language_pair", error
    assert "en → fr" in error["message"] or "fr → en" in error["message"]
    assert "openai or google" in error["message"]


@dataclass(frozen=True)
class Translator:
    """What differs between the two translation services, as the fakes record them."""

    provider: str
    model: str
    fault_stage: str
    """The fakes' stage whose faults strike its sessions."""
    per_minute: float
    """The default price table's rate."""

    def told_spanish(self, events: list[dict[str, Any]]) -> bool:
        if self.provider == "openai":
            updates = [e for e in events if e.get("kind") == "translation.session.update"]
            return bool(updates) and updates[0]["audio"]["output"] == {"language": "es"}
        setups = [e for e in events if e.get("kind") == "live.setup"]
        return bool(setups) and setups[-1]["translation"] == {"targetLanguageCode": "es"}


TRANSLATORS = {
    "openai-translation": Translator("openai", "gpt-realtime-translate", "translation", 0.034),
    "gemini-translation": Translator("google", "gemini-3.5-live-translate-preview", "realtime", 0),
}


@pytest.mark.parametrize("backend", list(TRANSLATORS))
async def test_a_translation_service_speaks_while_the_speaker_talks(
    backend: str, livekit_server: LiveKitServer, fakes: FakeProviders, worker: WorkerProcess
) -> None:
    translator = TRANSLATORS[backend]
    config = {"mode": "interpreter", "interpreter": {"backend": backend}}
    people = {"alice": {"language": "en"}, "bruno": {"language": "es"}}
    fakes.configure(
        translations=["Eres la única persona.", "Nadie está disponible."],
        transcripts=["You are currently the only person in this conference."],
    )
    try:
        async with room_with(
            livekit_server, worker.agent_name, people, dispatch_metadata=config, prefix="tr"
        ) as room:
            alice, bruno = room["alice"], room["bruno"]
            await bruno.wait_for_agent_track("interpretation-es")
            started = time.monotonic()
            await alice.speak(clip("conf-onlyperson"))
            await wait_for(lambda: sound_after(bruno, "interpretation-es", started), "es speech")
            first_es = min(t for t in bruno.sound_by_track["interpretation-es"] if t > started)
            assert alice.speech_end is not None and alice.speech_start is not None
            # Simultaneous: the translation is heard before the speaker has finished.
            MEASUREMENTS.append(
                f"{backend}: first translated audio {first_es - alice.speech_start:.2f}"
                f" s after speech start, {first_es - alice.speech_end:+.2f} s after its end"
            )
            assert first_es < alice.speech_end
            assert not sound_after(alice, "interpretation-en", started)

            def es(final: str) -> list[Transcript]:
                attrs = {"parley.target_language": "es", "lk.transcription_final": final}
                return captions(bruno, **attrs)

            await wait_for(lambda: es("true"), "es caption")
            assert es("true")[0].text == "Eres la única persona."
            assert es("true")[0].attributes["parley.speaker"] == "alice"
            # Shown word by word while it is spoken, in the final caption's segment.
            updates = es("false")
            assert updates and updates[0].text == "Eres"
            segment = es("true")[0].attributes["lk.segment_id"]
            assert updates[0].attributes["lk.segment_id"] == segment
            assert updates[0].received < es("true")[0].received

            def original() -> list[Transcript]:
                finals = captions(
                    bruno, **{"parley.speaker": "alice", "lk.transcription_final": "true"}
                )
                return [c for c in finals if "parley.target_language" not in c.attributes]

            await wait_for(original, "the original's caption")
            assert original()[0].text.startswith("You are currently the only person")

            # The session drops: it is reported, reopened after the backoff, and goes on.
            fakes.configure(faults=[{"stage": translator.fault_stage, "kind": "close"}])
            await alice.speak(clip("agent-pass"))
            resumed = time.monotonic()
            await asyncio.sleep(1.5)  # past the first backoff
            await alice.speak(clip("vm-nobodyavail"))
            await wait_for(lambda: sound_after(bruno, "interpretation-es", resumed), "resumed")
            name = alice.room.name
    finally:
        fakes.configure(translations=[], transcripts=[], faults=[])
    assert translator.told_spanish(fakes.received())

    await delete_room(livekit_server.url, API_KEY, API_SECRET, name)
    report = await worker.session_report(name)
    assert report["pipeline"] == f"translation:{translator.provider}"
    assert "session: TranslationError" in report["errors"]  # the drop was reported
    (line,) = [c for c in report["cost"]["lines"] if c["stage"] == "translation"]
    assert line["model"] == translator.model and line["quantity"]["minutes"] > 0.1
    expected = line["quantity"]["minutes"] * translator.per_minute
    assert report["cost"]["total_dollars"] == pytest.approx(expected)


async def test_seamless_on_the_worker_speaks_each_phrase_and_costs_nothing(
    livekit_server: LiveKitServer, worker: WorkerProcess
) -> None:
    # The backend's default model directory under the worker's PARLEY_MODELS_DIR, holding
    # the tiny random model: its words are noise, its rates and shapes the real model's.
    tiny_seamless.build(worker.data_dir / "models" / "seamless-m4t-v2-large")
    config = {
        "mode": "interpreter",
        "interpreter": {"backend": "seamless", "accept_license": "CC-BY-NC-4.0"},
    }
    people = {"alice": {"language": "en"}, "bruno": {"language": "es"}}
    async with room_with(
        livekit_server, worker.agent_name, people, dispatch_metadata=config, prefix="sm"
    ) as room:
        alice, bruno = room["alice"], room["bruno"]
        await bruno.wait_for_agent_track("interpretation-es")
        started = time.monotonic()
        await alice.speak(clip("conf-onlyperson"))
        await wait_for(lambda: sound_after(bruno, "interpretation-es", started), "es speech")
        finals = {"parley.target_language": "es", "lk.transcription_final": "true"}
        await wait_for(lambda: captions(bruno, **finals), "es caption")
        assert captions(bruno, **finals)[0].attributes["parley.speaker"] == "alice"
        original = {"parley.speaker": "alice", "parley.source_language": "en"}
        await wait_for(
            lambda: [
                c
                for c in captions(bruno, **original)
                if c.text and "parley.target_language" not in c.attributes
            ],
            "the original's caption",
        )
        assert not sound_after(alice, "interpretation-en", started)
        name = alice.room.name

    await delete_room(livekit_server.url, API_KEY, API_SECRET, name)
    report = await worker.session_report(name)
    assert report["pipeline"] == "translation:offline" and not report["errors"]
    (line,) = [c for c in report["cost"]["lines"] if c["stage"] == "translation"]
    assert line["provider"] == "offline" and line["model"] == "seamless-m4t-v2-large"
    assert line["quantity"]["minutes"] > 0.05 and report["cost"]["total_dollars"] == 0
