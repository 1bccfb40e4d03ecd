"""Does the meeting assistant hear its name? Whisper tiny.en beside base, through the real
server.

    scripts/bench wake [--rounds 3] [--name Parley]

Two meeting rooms at once, the same in all but the speakers' STT: the packaged tiny.en in
one, the packaged base in the other (each named through a models folder of links, as a
user would name their own). In each round a participant asks every question of
``QUESTIONS`` (the Piper voice the tests install) in each room, and says every recording of
``stack.recordings.CLIPS``, which address nobody; the rooms take turns, so both hear the
machine alike. Counts the transcript lines ``meeting_assistant.addressed`` accepts, and the
delay speech end → line at the participant. Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

from livekit.plugins import meeting_assistant
from livekit.plugins.offline.models import base_dir, tiny_en_dir
from pydantic import BaseModel

from agent.protocol import MEETING_TRANSCRIPT
from stack.livekit_server import start_livekit_server
from stack.participant import Participant, wait_for
from stack.process import ROOT
from stack.recordings import CLIPS, clip, spoken
from stack.rooms import room_with
from stack.worker import start_worker, worker_env

from .offline_v2v import percentiles

QUESTIONS = [
    "{name}, what did we decide?",
    "Hey {name}, summarize the meeting.",
    "Okay {name}, who owns the voicemail fix?",
    "{name}, can you read back the action items?",
]
MODELS = {"tiny.en": tiny_en_dir, "base": base_dir}
"""Each model's name in the bench's models folder, and where the package keeps it."""


class ModelResult(BaseModel):
    model: str
    addressed: int
    questions: int
    wrongly_addressed: int
    clips: int
    no_line: int
    """Utterances that gave no transcript line within 30 s."""
    delay_s: dict[str, float]
    misheard: list[str]
    """What the missed questions came out as."""


class Tally:
    def __init__(self, model: str, room: dict[str, Participant]) -> None:
        self.model = model
        self.person = next(iter(room.values()))
        self.received = self.person.watch(MEETING_TRANSCRIPT)
        self.asked: list[str] = []
        self.others: list[str] = []
        self.delays: list[float] = []
        self.no_line = 0

    async def say(self, wav: Path, into: list[str]) -> None:
        before = len(self.received)
        await self.person.speak(wav)
        end = self.person.speech_end
        assert end is not None
        try:
            await wait_for(lambda: len(self.received) > before, "a line", timeout=30)
        except TimeoutError:
            self.no_line += 1
            return
        await asyncio.sleep(1.0)  # a split sentence's second line
        into.append(" ".join(json.loads(t.text)["text"] for t in self.received[before:]))
        self.delays.append(self.received[before].received - end)
        # The answer, if any, ends before the next utterance (no barge-in in this count).
        await self.person.wait_for_agent_state("listening", timeout=60)

    def result(self, name: str) -> ModelResult:
        missed = [t for t in self.asked if meeting_assistant.addressed(t, name) is None]
        return ModelResult(
            model=self.model,
            addressed=len(self.asked) - len(missed),
            questions=len(self.asked),
            wrongly_addressed=sum(
                meeting_assistant.addressed(t, name) is not None for t in self.others
            ),
            clips=len(self.others),
            no_line=self.no_line,
            delay_s=percentiles(self.delays),
            misheard=sorted(set(missed)),
        )


def config(model: str, name: str) -> dict[str, Any]:
    return {
        "mode": "meeting",
        "meeting": {"wake_name": name, "stt": {"provider": "offline", "model": model}},
    }


async def measure(name: str, rounds: int, log_dir: Path) -> list[ModelResult]:
    models_dir = Path(tempfile.mkdtemp(prefix="parley-models-"))
    for model, packaged in MODELS.items():
        (models_dir / model).symlink_to(packaged())
    server = start_livekit_server(log_dir, isolated_ports=True)
    worker = start_worker(
        log_dir,
        worker_env(server, PARLEY_MODELS_DIR=str(models_dir), PARLEY_IDLE_PROCESSES="2"),
        agent_name="parley-bench-wake",
    )
    people: dict[str, dict[str, str]] = {"asker": {}}
    try:
        async with (
            room_with(
                server, worker.agent_name, people, dispatch_metadata=config("tiny.en", name)
            ) as tiny,
            room_with(
                server, worker.agent_name, people, dispatch_metadata=config("base", name)
            ) as base,
        ):
            tallies = [Tally("tiny.en", tiny), Tally("base", base)]
            for t in tallies:
                await t.person.wait_for_agent_state("listening", timeout=120)
            for r in range(rounds):
                for question in QUESTIONS:
                    for t in tallies:
                        await t.say(spoken(question.format(name=name)), t.asked)
                for c in CLIPS:
                    for t in tallies:
                        await t.say(clip(c), t.others)
                print(f"  round {r + 1}/{rounds} done")
            return [t.result(name) for t in tallies]
    finally:
        worker.stop()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--name", default="Parley")
    parser.add_argument("--json", type=Path, default=ROOT / "artifacts/bench/wake.json")
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    results = asyncio.run(measure(args.name, args.rounds, log_dir))
    print(f"\n{'model':>8s} {'addressed':>10s} {'wrongly':>8s} {'no line':>7s} {'p50':>5s}  missed")
    for r in results:
        print(
            f"{r.model:>8s} {r.addressed:4d} / {r.questions:<3d} {r.wrongly_addressed:2d} / "
            f"{r.clips:<3d} {r.no_line:7d} {r.delay_s['p50']:5.2f}  {r.misheard[:3]}"
        )
    print("(addressed: questions heard as addressing the assistant; p50: speech end → line, s)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps([r.model_dump() for r in results], indent=2))
    print(f"JSON: {args.json}   logs: {log_dir}")


if __name__ == "__main__":
    main()
