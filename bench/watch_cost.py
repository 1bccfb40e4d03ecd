"""What watching a provider costs a room: the local VAD that ``StallWatch`` (cloud STT
streams) and ``TurnWatch`` (speech-to-speech sessions, ``agent/pipeline/quiet.py``) run on
the user's audio, beside the rest of the room.

    scripts/bench watch_cost [--seconds 60]

Feeds ``--seconds`` of real speech (the asterisk prompts, with 1 s pauses, at OpenAI
Realtime's 24 kHz) through the segmenter's Silero VAD as fast as it goes, and idles a
``TurnWatch`` for 10 s; prints the CPU each takes per second of a live room, as a share of
one core. Writes artifacts/bench/watch_cost.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import wave
from pathlib import Path

import numpy as np
from livekit import rtc

from agent.pipeline import offline, quiet
from agent.pipeline.stalls import STALL_S
from fakes.audio import resample
from stack.process import ROOT
from stack.recordings import CLIPS, clip

RATE = 24_000
FRAME = RATE // 50


def speech(seconds: float) -> list[rtc.AudioFrame]:
    parts: list[np.ndarray] = []
    while sum(p.size for p in parts) < seconds * RATE:
        for name in CLIPS:
            with wave.open(str(clip(name))) as w:
                pcm = np.frombuffer(w.readframes(w.getnframes()), np.int16)
                parts += [resample(pcm, w.getframerate(), RATE), np.zeros(RATE, np.int16)]
    pcm = np.concatenate(parts)[: int(seconds * RATE) // FRAME * FRAME]
    return [
        rtc.AudioFrame(pcm[i : i + FRAME].tobytes(), RATE, 1, FRAME)
        for i in range(0, pcm.size, FRAME)
    ]


async def vad_cpu(frames: list[rtc.AudioFrame]) -> float:
    """CPU seconds (all threads) the VAD takes over ``frames``."""
    stream = offline.segmenter_vad().stream()
    started = time.process_time()
    for f in frames:
        stream.push_frame(f)
    stream.end_input()
    async for _ in stream:
        pass
    used = time.process_time() - started
    await stream.aclose()
    return used


async def idle_watch_cpu(seconds: float) -> float:
    """CPU seconds a ``TurnWatch`` takes while nothing happens (its 0.1 s look)."""

    async def replace() -> None:
        return None

    watch = quiet.TurnWatch(offline.segmenter_vad(), STALL_S, lambda: None, replace)
    started = time.process_time()
    await asyncio.sleep(seconds)
    used = time.process_time() - started
    await watch.aclose()
    return used


async def run(seconds: float) -> dict[str, float]:
    frames = speech(seconds)
    await vad_cpu(frames[:50])  # the model's first inference builds its session
    vad_s = await vad_cpu(frames)
    idle_s = await idle_watch_cpu(10.0)
    return {
        "audio_s": len(frames) * 0.02,
        "vad_cpu_s": vad_s,
        "vad_core_pct": 100 * vad_s / (len(frames) * 0.02),
        "idle_watch_core_pct": 100 * idle_s / 10.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--json", type=Path, default=ROOT / "artifacts/bench/watch_cost.json")
    args = parser.parse_args()
    result = asyncio.run(run(args.seconds))
    print(
        f"watch VAD: {result['vad_cpu_s']:.2f} CPU s for {result['audio_s']:.0f} s of audio"
        f" = {result['vad_core_pct']:.1f} % of one core per room;"
        f" idle watch loop {result['idle_watch_core_pct']:.2f} % of one core"
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(f"JSON: {args.json}")


if __name__ == "__main__":
    main()
