"""Lag and quality of the live interpreter, through the real server, as a listener gets it.

    scripts/bench interpreter_lag [--utterances 30] [--backend offline openai-translation …]

For each backend in turn: livekit-server and a worker, an interpreter room with an English
speaker and a Spanish listener. The speaker says real recordings one after the other
(``stack.recordings.bilingual``: Debian's prompts that exist in English and Spanish under one
name; the English recording is the source, the Spanish text the reference). The listener
times, on its `interpretation-es` track, speech start → translated audio start and speech
end → translated audio end, and keeps the Spanish captions: corpus chrF and BLEU against the
references, and average lagging over the captions' words, each timed by the first caption
update that showed it (``stack.translation_scores``).

- ``offline``: no keys, the offline cascade (Whisper → Apertium → espeak-ng), all real.
- ``openai`` / ``google``: the realtime speech-to-speech backend on the fake providers;
- ``openai-translation`` / ``gemini-translation``: the translation services on the fakes.
- ``seamless-tiny``: the self-hosted SeamlessM4T v2 backend on a tiny random model.
The fakes answer at once and say a fixed sentence: their lag is what Parley (and, for the
realtime backends, the provider's turn detection) adds, and their captions are not scored;
nor are the tiny model's random words.
Prints one row per backend and writes JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agent.config.defaults import OFFLINE_CASCADE
from agent.config.models import SEAMLESS_LICENSE, SEAMLESS_MODEL
from agent.rooms import delete_room
from stack import tiny_seamless
from stack.fakes import start_fakes
from stack.livekit_server import API_KEY, API_SECRET, start_livekit_server
from stack.participant import Participant, Transcript
from stack.process import ROOT
from stack.recordings import Pair, bilingual
from stack.rooms import room_with
from stack.translation_scores import average_lagging, corpus_scores
from stack.worker import start_worker, worker_env

from .offline_v2v import percentiles

TRACK = "interpretation-es"
BACKENDS: dict[str, dict[str, Any]] = {
    "offline": {"pipeline": OFFLINE_CASCADE},
    "openai": {"pipeline": {"kind": "realtime", "provider": "openai"}},
    "google": {"pipeline": {"kind": "realtime", "provider": "google"}},
    "openai-translation": {"interpreter": {"backend": "openai-translation"}},
    "gemini-translation": {"interpreter": {"backend": "gemini-translation"}},
    "seamless-tiny": {"interpreter": {"backend": "seamless", "accept_license": SEAMLESS_LICENSE}},
}
REAL = {"offline"}
"""Backends whose translations are real, so worth scoring."""
TINY = {"seamless-tiny"}
"""The Seamless backend on the test kit's tiny random model: the lag of Parley's chunking and
streaming, with next to no model time (real weights cannot be downloaded here)."""
QUIET_S = 2.5
"""Silence on the track that ends an utterance's translation."""
CAPTION_GRACE_S = 0.5
"""A translation's caption follows its audio's end."""


class Utterance(BaseModel):
    clip: str
    start_lag_s: float
    end_lag_s: float
    al_s: float | None
    """Average lagging over the caption's words (None: no caption)."""
    caption: str
    reference: str


class Result(BaseModel):
    backend: str
    fake: bool
    utterances: list[Utterance]
    summary: dict[str, dict[str, float | None]]
    quality: dict[str, float] | None
    """Corpus chrF and BLEU of the captions (real backends only)."""
    dollars_per_minute: float | None
    """The session report's cost over its minutes."""
    agent_summary: dict[str, float]


async def translated(
    listener: Participant, after: float, timeout: float = 30.0
) -> tuple[float, float]:
    """First and last sound on the track after ``after``, once it has been quiet a while."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sounds = [t for t in listener.sound_by_track.get(TRACK, []) if t > after]
        if sounds and time.monotonic() - sounds[-1] > QUIET_S:
            return sounds[0], sounds[-1]
        await asyncio.sleep(0.1)
    raise TimeoutError(f"no translation on {TRACK} within {timeout}s")


def spanish_captions(listener: Participant, after: float) -> list[list[Transcript]]:
    """The Spanish captions since ``after``, each as its updates and then its final (a
    segment may hold several captions in a row: each final ends one)."""
    open_: dict[str, list[Transcript]] = {}
    captions: list[list[Transcript]] = []
    for c in listener.transcripts:
        if c.received > after and c.attributes.get("parley.target_language") == "es":
            updates = open_.setdefault(c.attributes.get("lk.segment_id", ""), [])
            if not updates:
                captions.append(updates)
            updates.append(c)
            if c.final:
                del open_[c.attributes.get("lk.segment_id", "")]
    return captions


def word_times(updates: list[Transcript], start: float) -> list[float]:
    """When each word of a caption's last text was first shown, from ``start``."""
    times: list[float] = []
    for c in updates:
        times += [c.received - start] * max(0, len(c.text.split()) - len(times))
    return times


async def say(speaker: Participant, listener: Participant, pair: Pair) -> Utterance:
    await speaker.speak(pair.path)
    start, end = speaker.speech_start, speaker.speech_end
    assert start is not None and end is not None
    first, last = await translated(listener, start)
    await asyncio.sleep(CAPTION_GRACE_S)
    captions = spanish_captions(listener, start)
    times = sorted(t for updates in captions for t in word_times(updates, start))
    return Utterance(
        clip=pair.name,
        start_lag_s=first - start,
        end_lag_s=last - end,
        al_s=average_lagging(times, end - start),
        caption=" ".join(updates[-1].text for updates in captions),
        reference=pair.reference,
    )


async def measure(backend: str, pairs: list[Pair], log_dir: Path) -> Result:
    server = start_livekit_server(log_dir, isolated_ports=True)
    fakes = start_fakes(log_dir) if backend not in REAL | TINY else None
    env = worker_env(server, fakes, PARLEY_IDLE_PROCESSES="1")
    worker = start_worker(log_dir, env, agent_name="parley-bench-interp")
    if backend in TINY:  # where the backend looks by default
        tiny_seamless.build(worker.data_dir / "models" / SEAMLESS_MODEL)
    config = {"mode": "interpreter", **BACKENDS[backend]}
    measured: list[Utterance] = []
    people = {"speaker": {"language": "en"}, "listener": {"language": "es"}}
    try:
        async with room_with(server, worker.agent_name, people, dispatch_metadata=config) as room:
            speaker, listener = room["speaker"], room["listener"]
            await listener.wait_for_agent_track(TRACK)
            for i, pair in enumerate(pairs):
                u = await say(speaker, listener, pair)
                measured.append(u)
                al = f"{u.al_s:5.2f}" if u.al_s is not None else "  –  "
                print(
                    f"{backend:18s} {i + 1:2d} {pair.name:22s} start {u.start_lag_s:5.2f} s"
                    f"  end {u.end_lag_s:5.2f} s  AL {al} s  {u.caption[:50]}"
                )
            agent = listener.agent()
            raw = agent.attributes.get("parley.interpreter_lag", "{}") if agent else "{}"
            name = speaker.room.name
        await delete_room(server.url, API_KEY, API_SECRET, name)  # the job ends, and reports
        report = await worker.session_report(name)
    finally:
        worker.stop()
        if fakes:
            fakes.stop()
        server.stop()
    scored = backend in REAL
    return Result(
        backend=backend,
        fake=not scored,
        utterances=measured,
        summary={
            "start_lag": percentiles([u.start_lag_s for u in measured]),
            "end_lag": percentiles([u.end_lag_s for u in measured]),
            "al": percentiles([u.al_s for u in measured if u.al_s is not None]),
        },
        quality=corpus_scores([u.caption for u in measured], [u.reference for u in measured])
        if scored
        else None,
        dollars_per_minute=report["cost"]["per_minute_dollars"],
        agent_summary=json.loads(raw),
    )


def row(r: Result) -> str:
    def p50(name: str) -> str:
        value = r.summary[name]["p50"]
        return f"{value:5.2f}" if value is not None else "  –  "

    quality = f"{r.quality['chrf']:5.1f} {r.quality['bleu']:5.1f}" if r.quality else "  –     –  "
    cost = f"{r.dollars_per_minute:.4f}" if r.dollars_per_minute is not None else "–"
    label = r.backend + (" (fake)" if r.fake and r.backend not in TINY else "")
    return f"{label:26s} {quality}  {p50('start_lag')} {p50('end_lag')} {p50('al')}  {cost}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=30)
    parser.add_argument("--backend", nargs="+", choices=sorted(BACKENDS), default=["offline"])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    pairs = bilingual(args.utterances)
    results = [asyncio.run(measure(backend, pairs, log_dir)) for backend in args.backend]
    print(f"\n{'backend':26s}  chrF  BLEU  start   end    AL   $/min  (lags p50, s)")
    for r in results:
        print(row(r))
    args.json = args.json or ROOT / "artifacts/bench/interpreter_lag.json"
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps([r.model_dump() for r in results], indent=2))
    print(f"JSON: {args.json}   logs: {log_dir}")


if __name__ == "__main__":
    main()
