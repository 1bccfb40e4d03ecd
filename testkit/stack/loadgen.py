"""Many light users at once: the Go load generator (``testkit/loadgen``), one per room.

One process speaks for every room (pion, Opus packets encoded once), so that the load bench
measures the worker, not its users: a Python participant per room costs about as much CPU as
the agent it talks to."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakes.audio import read_wav, resample

from .livekit_server import API_KEY, API_SECRET, LiveKitServer
from .participant import SILENCE_DBFS, quiet_ends_s
from .process import installed

RATE = 48000


@dataclass
class Users:
    """A running load generator whose users all joined; ``ready_s[i]``: dispatch → room
    ``rooms[i]``'s agent listening, ``None`` where it never did."""

    process: asyncio.subprocess.Process
    rooms: list[str]
    ready_s: list[float | None]

    @property
    def pid(self) -> int:
        return self.process.pid

    async def converse(self) -> list[list[float | None]]:
        """Runs every turn in every ready room; the v2v delays, per room then turn (``None``:
        no answer)."""
        done = await self._command("go", "done")
        return [[None if v < 0 else v for v in turns] for turns in done["v2v_s"]]

    async def close(self) -> None:
        if self.process.returncode is None:
            assert self.process.stdin is not None
            self.process.stdin.write(b"quit\n")
            self.process.stdin.close()
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()

    async def _command(self, line: str, event: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()
        return await _event(self.process, event)


async def _event(process: asyncio.subprocess.Process, event: str) -> dict[str, Any]:
    assert process.stdout is not None
    while line := await process.stdout.readline():
        message: dict[str, Any] = json.loads(line)
        if message.get("event") == event:
            return message
    raise RuntimeError(f"the load generator exited (rc {await process.wait()}) before {event!r}")


def _clip_specs(wavs: list[Path], folder: Path) -> list[dict[str, Any]]:
    specs = []
    for i, wav in enumerate(wavs):
        samples, rate = read_wav(wav.read_bytes())
        pcm = resample(samples, rate, RATE)
        path = folder / f"clip-{i}.s16le"
        path.write_bytes(pcm.tobytes())
        specs.append({"pcm": str(path), "quiet_end_s": quiet_ends_s(pcm, RATE)[1]})
    return specs


async def start_users(
    server: LiveKitServer,
    agent_name: str,
    metadata: dict[str, Any],
    rooms: int,
    turns: int,
    wavs: list[Path],
    log: Path,
    timeout_s: float = 180.0,
) -> Users:
    """Opens ``rooms`` rooms, each with a user and ``agent_name`` dispatched with ``metadata``;
    returns once every agent listens or timed out. User ``i`` says ``wavs[(turn + i) % n]``."""
    binary = await asyncio.to_thread(installed, "install-go-tool", "loadgen")
    folder = log.parent / f"{log.stem}.clips"  # beside its log, not left in /tmp
    folder.mkdir(exist_ok=True)
    spec = {
        "url": server.url,
        "api_key": API_KEY,
        "api_secret": API_SECRET,
        "agent_name": agent_name,
        "metadata": json.dumps(metadata),
        "prefix": "load",
        "rooms": rooms,
        "turns": turns,
        "clips": await asyncio.to_thread(_clip_specs, wavs, folder),
        "silence_dbfs": SILENCE_DBFS,
        "timeout_s": timeout_s,
    }
    (folder / "spec.json").write_text(json.dumps(spec))
    with log.open("ab") as err:
        process = await asyncio.create_subprocess_exec(
            binary,
            str(folder / "spec.json"),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=err,
        )
    ready = await _event(process, "ready")
    return Users(process, ready["rooms"], [None if r < 0 else r for r in ready["ready_s"]])
