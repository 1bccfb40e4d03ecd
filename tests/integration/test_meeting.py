"""The meeting mode through the real server: three people say real recordings in turns; the
agent transcribes each separately, stays silent until addressed, answers, writes the notes
(the OpenAI fake plays the model), and loses no line when its job process is killed."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from livekit.plugins import webhook
from livekit.plugins.meeting_assistant import addressed

from agent.protocol import MEETING_NOTES as NOTES_TOPIC
from agent.protocol import MEETING_TRANSCRIPT as TRANSCRIPT_TOPIC
from agent.rooms import delete_room
from agent.worker import SHUTDOWN_S
from stack.fakes import FakeProviders
from stack.livekit_server import API_KEY, API_SECRET, LiveKitServer
from stack.participant import Participant, wait_for
from stack.recordings import clip, known_text, spoken, word_error_rate
from stack.rooms import room_with
from stack.webhook import Receiver, receiving
from stack.worker import WEBHOOK_SECRET, WorkerProcess, start_worker

from .rooms import MEASUREMENTS, worker_env

PEOPLE: dict[str, dict[str, str]] = {"alice": {}, "bob": {}, "carol": {}}
# One sentence each, without a pause inside (which may rightly split into two lines).
TURNS = [("alice", "conf-onlyperson"), ("bob", "vm-nobodyavail"), ("carol", "tt-weasels")]
NOTES_REPLY = json.dumps(
    {
        "summary": "The team reviewed the phone system.",
        "decisions": ["Keep the current extensions"],
        "action_items": [{"owner": "bob", "what": "Fix voicemail", "due": "Friday"}],
    }
)


def meeting(folder: str, webhook: str) -> dict[str, Any]:
    """``folder``: the room's sub-folder of the worker's meetings folder."""
    # Real recognition (Whisper) and voice (espeak-ng); the OpenAI fake plays the LLM.
    return {
        "mode": "meeting",
        "pipeline": {
            "kind": "cascade",
            "stt": {"provider": "offline"},
            "llm": {"provider": "openai"},
            "tts": {"provider": "offline"},
        },
        "meeting": {"notes_dir": folder, "webhook_url": webhook},
    }


@asynccontextmanager
async def meeting_room(
    server: LiveKitServer,
    worker: WorkerProcess,
    folder: str,
    people: dict[str, dict[str, str]],
    webhook: list[int | str],
    prefix: str,
    name: str | None = None,
) -> AsyncIterator[tuple[Receiver, dict[str, Participant]]]:
    """A meeting room with a local webhook answering ``webhook``; yields once the agent
    listens, with everyone collecting the transcript topic."""
    async with (
        receiving(webhook) as hook,
        room_with(
            server,
            worker.agent_name,
            people,
            dispatch_metadata=meeting(folder, hook.url),
            prefix=prefix,
            name=name,
        ) as joined,
    ):
        for p in joined.values():
            p.watch(TRANSCRIPT_TOPIC)
        await next(iter(joined.values())).wait_for_agent_state("listening", timeout=60)
        yield hook, joined


@pytest.fixture
def notes_reply(fakes: FakeProviders) -> Iterator[None]:
    """The test sets the notes JSON as the fake model's answer; it is restored afterwards."""
    with fakes.replying():
        yield


def lines(p: Participant) -> list[dict[str, Any]]:
    return [json.loads(t.text) for t in p.texts.get(TRANSCRIPT_TOPIC, [])]


async def say_and_wait_line(people: dict[str, Participant], who: str, wav: Path) -> float:
    """Says the clip; returns the delay from speech end to its line reaching a listener."""
    observer = people["alice"]
    before = len(lines(observer))
    await people[who].speak(wav)
    end = people[who].speech_end
    await wait_for(lambda: len(lines(observer)) > before, f"a transcript line for {who}")
    arrived = observer.texts[TRANSCRIPT_TOPIC][before].received
    assert end is not None
    return arrived - end


async def read(path: Path) -> str:
    return await asyncio.to_thread(path.read_text)


def room_file(worker: WorkerProcess, folder: str, room: str, suffix: str) -> Path:
    """The room's file: named by its SID, then its name, in the room's folder."""
    (path,) = (worker.data_dir / "meetings" / folder).glob(f"RM_*-{room}{suffix}")
    return path


async def transcript_file(worker: WorkerProcess, folder: str, room: str) -> list[dict[str, Any]]:
    text = await read(room_file(worker, folder, room, ".transcript.jsonl"))
    return [json.loads(line) for line in text.splitlines()]


async def test_meeting_transcript_address_and_notes(
    livekit_server: LiveKitServer,
    fakes: FakeProviders,
    worker: WorkerProcess,
    tmp_path: Path,
    notes_reply: None,
) -> None:
    folder = tmp_path.name
    async with meeting_room(livekit_server, worker, folder, PEOPLE, [200], "meeting") as (
        hook,
        people,
    ):
        for p in people.values():
            p.watch(NOTES_TOPIC)
        alice = people["alice"]
        room = alice.room.name or ""
        delays = [await say_and_wait_line(people, who, clip(name)) for who, name in TURNS]
        heard = lines(alice)
        assert [line["speaker"] for line in heard] == [who for who, _ in TURNS]
        for line, (_, name) in zip(heard, TURNS, strict=True):
            assert word_error_rate(known_text(name), line["text"]) <= 0.35, line
            assert line["end"] >= line["start"] and line["name"] == line["speaker"]
        # Captions per speaker track, too.
        tracks = {c.attributes.get("lk.transcribed_track_id") for c in alice.transcripts}
        assert len(tracks - {None}) >= 3
        assert alice.agent_sound_times == [], "the assistant spoke while nobody addressed it"

        asked = time.monotonic()
        await say_and_wait_line(people, "bob", spoken("Parley, what did we decide?"))
        question = lines(alice)[-1]["text"]
        assert addressed(question, "Parley") is not None, f"heard as {question!r}"
        await wait_for(lambda: any(t > asked for t in alice.agent_sound_times), "a spoken answer")

        fakes.configure(reply_text=NOTES_REPLY)
        await people["carol"].room.local_participant.send_text("summarize", topic="lk.chat")
        await wait_for(lambda: alice.texts[NOTES_TOPIC], "notes on the topic")
        notes = json.loads(alice.texts[NOTES_TOPIC][0].text)
        assert notes["final"] is False and notes["structured"] is True
        assert notes["action_items"][0]["owner"] == "bob"
        for p in people.values():
            await p.leave()
        await wait_for(lambda: any(b["final"] for b in hook.bodies), "final notes at the webhook")

    final = json.loads(await read(room_file(worker, folder, room, ".notes.json")))
    assert final["final"] is True and final["lines"] == 5  # 3 clips, the question, the chat
    assert "## Action items" in await read(room_file(worker, folder, room, ".notes.md"))
    on_disk = await transcript_file(worker, folder, room)
    assert [x["speaker"] for x in on_disk] == ["alice", "bob", "carol", "bob", "carol"]
    MEASUREMENTS.append(
        "meeting: transcript line delay (speech end → line at a listener) "
        + ", ".join(f"{d:.2f}" for d in delays)
        + " s"
    )
    log = worker.process.log_text()
    assert "only person" not in log and "decide" not in log  # no transcript text in logs
    # Signed, with one idempotency key per delivery, the same on its retries.
    for raw, headers in zip(hook.raw, hook.headers, strict=True):
        assert webhook.verify(WEBHOOK_SECRET.encode(), headers[webhook.SIGNATURE_HEADER], raw)
    assert len({h[webhook.IDEMPOTENCY_HEADER] for h in hook.headers}) == len(hook.headers)
    # Only the worker's user may read what was said.
    for path in (worker.data_dir / "meetings" / folder).iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE((worker.data_dir / "meetings" / folder).stat().st_mode) == 0o700


async def test_killed_job_resumes_without_losing_a_line(
    livekit_server: LiveKitServer, worker: WorkerProcess, tmp_path: Path
) -> None:
    two: dict[str, dict[str, str]] = {"alice": {}, "bob": {}}
    folder = tmp_path.name
    async with meeting_room(livekit_server, worker, folder, two, [200], "meeting-kill") as (
        hook,
        people,
    ):
        alice = people["alice"]
        room = alice.room.name or ""
        await say_and_wait_line(people, "alice", clip("conf-onlyperson"))
        os.kill(worker.job_pid(room), signal.SIGKILL)
        await wait_for(lambda: alice.agent() is None, "the killed agent to leave", timeout=60)
        # Nobody dispatches it again by hand: the worker's rescue does (PARLEY_RESCUE_AFTER_S).
        await alice.wait_for_agent_state("listening", timeout=60)
        await say_and_wait_line(people, "bob", clip("vm-nobodyavail"))
        for p in people.values():
            await p.leave()
        await wait_for(lambda: any(b["final"] for b in hook.bodies), "final notes at the webhook")
    final = next(b for b in hook.bodies if b["final"])
    assert final["lines"] == 2 and final["speakers"] == ["alice", "bob"]
    on_disk = await transcript_file(worker, folder, room)
    assert [(x["seq"], x["speaker"]) for x in on_disk] == [(1, "alice"), (2, "bob")]
    assert worker.process.proc.poll() is None, "the worker died with its job process"


async def test_a_room_deleted_mid_meeting_gets_its_final_notes_once(
    livekit_server: LiveKitServer, worker: WorkerProcess, tmp_path: Path
) -> None:
    """Deleting the room disconnects everyone and ends the job: both paths ask for the final
    notes, which are written and delivered once."""
    two: dict[str, dict[str, str]] = {"alice": {}, "bob": {}}
    folder = tmp_path.name
    async with meeting_room(livekit_server, worker, folder, two, [200], "meeting-del") as (
        hook,
        people,
    ):
        room = people["alice"].room.name or ""
        await say_and_wait_line(people, "alice", clip("conf-onlyperson"))
        await delete_room(livekit_server.url, API_KEY, API_SECRET, room)
        await wait_for(lambda: hook.bodies, "the final notes at the webhook", timeout=60)
        await asyncio.sleep(3)  # a second delivery would come now
    assert [(b["final"], b["lines"]) for b in hook.bodies] == [(True, 1)]
    notes = json.loads(await read(room_file(worker, folder, room, ".notes.json")))
    assert notes["final"] is True and notes["lines"] == 1


async def test_failing_webhook_is_retried_and_reported_without_blocking(
    livekit_server: LiveKitServer, worker: WorkerProcess, tmp_path: Path
) -> None:
    one: dict[str, dict[str, str]] = {"alice": {}}
    async with meeting_room(livekit_server, worker, tmp_path.name, one, [500], "meeting-hook") as (
        hook,
        people,
    ):
        alice = people["alice"]
        await alice.room.local_participant.send_text("Parley, summarize", topic="lk.chat")
        # The room carries on while the webhook fails: a line still gets transcribed.
        await say_and_wait_line(people, "alice", clip("agent-pass"))
        report = json.loads(await alice.wait_for_agent_attribute("parley.meeting", timeout=60))
        sent = next(d for d in report["deliveries"] if d["target"] == "webhook")
        assert (sent["ok"], sent["attempts"]) == (False, 3), report
        assert sent["error"] == "HTTP 500" and len(hook.bodies) == 3
        # Each retry of one delivery carries the same idempotency key.
        assert len({h[webhook.IDEMPOTENCY_HEADER] for h in hook.headers}) == 1


async def test_a_new_room_of_the_same_name_starts_afresh(
    livekit_server: LiveKitServer, fakes: FakeProviders, worker: WorkerProcess, tmp_path: Path
) -> None:
    """Meeting A in room `r`, everyone leaves, the room is deleted; a new room `r`: nothing
    of A reaches its answers, its notes, or what its language model is sent."""
    name, folder = f"same-{tmp_path.name[-12:]}", "shared"  # one folder, as by default
    async with meeting_room(livekit_server, worker, folder, {"alice": {}}, [200], "", name) as (
        first_hook,
        first,
    ):
        await say_and_wait_line(first, "alice", clip("conf-onlyperson"))
        await first["alice"].leave()
        await wait_for(lambda: first_hook.bodies, "meeting A's final notes")
    await delete_room(livekit_server.url, API_KEY, API_SECRET, name)
    fakes.reset()
    async with meeting_room(livekit_server, worker, folder, {"alice": {}}, [200], "", name) as (
        hook,
        second,
    ):
        alice = second["alice"]
        await alice.room.local_participant.send_text("what did we decide?", topic="lk.chat")
        await wait_for(lambda: fakes.received(), "the answer's model request")
        await alice.leave()
        await wait_for(lambda: hook.bodies, "meeting B's final notes")
    sent = json.dumps(fakes.received())
    assert "only person" not in sent and "conference" not in sent, sent[:2000]
    assert hook.bodies[-1]["lines"] == 1  # the chat line only
    files = sorted(p.name for p in (worker.data_dir / "meetings" / folder).glob("*.jsonl"))
    assert len(files) == 2, files  # one transcript per room SID


async def test_a_webhook_that_resolves_to_a_private_address_is_not_called(
    livekit_server: LiveKitServer, worker: WorkerProcess, tmp_path: Path
) -> None:
    """`localhost` passes as a name but resolves to loopback, which the worker allows by
    the name 127.0.0.1 only: the receiver is never called, and the room sees a status."""
    async with receiving([200]) as hook:
        url = hook.url.replace("http://127.0.0.1", "https://localhost")
        config = meeting(tmp_path.name, url)
        async with room_with(
            livekit_server, worker.agent_name, {"alice": {}}, dispatch_metadata=config
        ) as people:
            alice = people["alice"]
            await alice.wait_for_agent_state("listening", timeout=60)
            await alice.room.local_participant.send_text("Parley, recap", topic="lk.chat")
            report = json.loads(await alice.wait_for_agent_attribute("parley.meeting", timeout=60))
    sent = next(d for d in report["deliveries"] if d["target"] == "webhook")
    assert (sent["ok"], sent["error"]) == (False, "refused"), report
    assert hook.bodies == []
    assert "/hook" not in json.dumps(report) and "localhost" not in json.dumps(report)


LONG_ANSWER = " ".join(["The budget stays as it is for the next quarter, as agreed."] * 4)


@pytest.fixture
def long_answer(fakes: FakeProviders) -> Iterator[None]:
    with fakes.replying(LONG_ANSWER):
        yield


@pytest.mark.parametrize("pipeline", ["cascade", "openai-realtime"])
async def test_answer_stops_when_someone_talks_over_it(
    livekit_server: LiveKitServer,
    worker: WorkerProcess,
    tmp_path: Path,
    long_answer: None,
    pipeline: str,
) -> None:
    config = meeting(tmp_path.name, "http://127.0.0.1:9/unused")
    if pipeline == "openai-realtime":  # answers come from the realtime fake's speech
        config["pipeline"] = {"kind": "realtime", "provider": "openai"}
    async with room_with(
        livekit_server, worker.agent_name, {"alice": {}, "bob": {}}, dispatch_metadata=config
    ) as people:
        alice, bob = people["alice"], people["bob"]
        await alice.wait_for_agent_state("listening", timeout=60)
        asked = time.monotonic()
        await bob.room.local_participant.send_text("what did we decide?", topic="lk.chat")
        await wait_for(lambda: any(t > asked for t in alice.agent_sound_times), "an answer")
        await asyncio.sleep(1.0)
        await alice.speak(clip("privacy-unident"))  # 4.4 s over the answer
        assert alice.speech_start is not None
        talk = alice.speech_start
        playing = [t for t in alice.agent_sound_times if talk < t < talk + 0.5]
        assert playing, "the answer had ended before anyone talked over it: nothing to test"
        stopped_by = talk + 2.0  # 0.6 s of talk-over, VAD and the network
        late = [t for t in alice.agent_sound_times if t > stopped_by]
        assert not late, f"the answer went on {late[-1] - talk:.1f} s into the talk"


DRAIN_S = 20


async def test_sigterm_drains_the_worker_and_each_meeting_gets_its_notes_once(
    livekit_server: LiveKitServer, fakes: FakeProviders, log_dir: Path, tmp_path: Path
) -> None:
    """SIGTERM to the worker (its PID alone, as an orchestrator sends it): no new room is
    taken; a meeting whose people leave ends as ever; one still going is ended at the drain
    timeout; each gets one notes file and one webhook call, and the worker exits."""
    env = worker_env(livekit_server, fakes, PARLEY_DRAIN_TIMEOUT_S=str(DRAIN_S))
    draining = await asyncio.to_thread(start_worker, log_dir, env, agent_name="parley-drain")
    one: dict[str, dict[str, str]] = {"alice": {}}
    try:
        async with (
            meeting_room(livekit_server, draining, "stays", one, [200], "drain-stays") as (
                stays_hook,
                stays,
            ),
            meeting_room(livekit_server, draining, "leaves", one, [200], "drain-leaves") as (
                leaves_hook,
                leaves,
            ),
        ):
            rooms = {"stays": stays["alice"].room.name, "leaves": leaves["alice"].room.name}
            await say_and_wait_line(stays, "alice", clip("conf-onlyperson"))
            os.kill(draining.process.pid, signal.SIGTERM)
            sent = time.monotonic()
            await wait_for(lambda: "draining worker" in draining.process.log_text(), "a drain")

            # The rooms in flight go on: a line said after the signal is transcribed.
            await say_and_wait_line(leaves, "alice", clip("vm-nobodyavail"))
            await leaves["alice"].leave()
            await wait_for(lambda: leaves_hook.bodies, "the notes of the meeting that ended")
            async with room_with(
                livekit_server, draining.agent_name, one, dispatch_metadata=meeting("new", "")
            ) as new:
                await asyncio.sleep(5)
                assert new["alice"].agent() is None, "a draining worker took a new room"

            await wait_for(
                lambda: stays_hook.bodies,
                "the drain timeout to end the meeting still going, with its notes",
                timeout=DRAIN_S + SHUTDOWN_S,
            )
            rc = await asyncio.to_thread(draining.process.proc.wait, SHUTDOWN_S)
            exited_s = time.monotonic() - sent
            await asyncio.sleep(3)  # a second delivery would come now
        for name, hook in (("stays", stays_hook), ("leaves", leaves_hook)):
            # Whisper may split a clip at an inner pause under load: count the lines on disk.
            said = len(await transcript_file(draining, name, rooms[name]))
            assert said >= 1, name
            assert [(b["final"], b["lines"]) for b in hook.bodies] == [(True, said)], name
            notes = json.loads(await read(room_file(draining, name, rooms[name], ".notes.json")))
            assert notes["final"] is True, name
        MEASUREMENTS.append(
            f"SIGTERM with 2 meetings (drain timeout {DRAIN_S} s): worker exited {exited_s:.1f} s"
            f" after the signal, rc {rc}"
        )
        assert rc == 0 and exited_s <= DRAIN_S + SHUTDOWN_S, (rc, exited_s)
    finally:
        draining.stop()
