"""``python -m stack``: run Parley locally, and open rooms for it.

- ``up [--fakes]``: the LiveKit server from livekit.yaml, the worker (``dev`` mode) and the
  playground page (``PARLEY_PLAYGROUND_PORT``, default 8780); with ``--fakes`` the worker
  talks to the local fake providers instead of the real ones.
- ``room NAME [--config JSON]``: creates a room, dispatches ``parley`` into it with that room
  config, and prints a join token for a LiveKit client.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import threading
from pathlib import Path

from agent.playground.server import DEFAULT_PORT
from agent.rooms import create_room, dispatch, token
from agent.settings import DEFAULT_AGENT_NAME, load_env_files

from .fakes import FakeProviders, start_fakes
from .livekit_server import API_KEY, API_SECRET, LiveKitServer, start_livekit_server
from .playground import PlaygroundProcess, start_playground
from .process import ROOT
from .worker import WorkerProcess, start_worker

LOG_DIR = ROOT / "artifacts" / "dev"


def up(with_fakes: bool, command: str) -> None:
    server = start_livekit_server(LOG_DIR)
    stoppables: list[LiveKitServer | FakeProviders | WorkerProcess | PlaygroundProcess] = [server]
    try:
        env = server.env()
        if with_fakes:
            fakes = start_fakes(LOG_DIR)
            stoppables.append(fakes)
            env.update(fakes.env())
        worker = start_worker(
            LOG_DIR,
            env,
            agent_name=os.environ.get("LIVEKIT_AGENT_NAME") or DEFAULT_AGENT_NAME,
            command=command,
            http_port=int(os.environ.get("PARLEY_HTTP_PORT") or 8081),
        )
        stoppables.append(worker)
        playground = start_playground(
            LOG_DIR,
            server.env(),
            agent_name=worker.agent_name,
            port=int(os.environ.get("PARLEY_PLAYGROUND_PORT") or DEFAULT_PORT),
        )
        stoppables.append(playground)
        print(f"Playground: open {playground.url} in a browser to talk to Parley.", flush=True)
        print(
            f"Parley is up: LiveKit {server.url} (key {API_KEY}, secret {API_SECRET}), "
            f"agent '{worker.agent_name}', logs in {LOG_DIR}.\n"
            "Open a room: .venv/bin/python -m stack room demo --config "
            '\'{"mode":"assistant","pipeline":{"kind":"realtime","provider":"openai"}}\''
            "\nCtrl-C stops everything.",
            flush=True,
        )
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.is_set() and worker.process.proc.poll() is None:
                stop.wait(1.0)
        except KeyboardInterrupt:
            pass
    finally:
        for item in reversed(stoppables):
            item.stop()


async def room(name: str, config: str, identity: str) -> None:
    url = os.environ.get("LIVEKIT_URL") or "ws://127.0.0.1:7880"
    key = os.environ.get("LIVEKIT_API_KEY") or API_KEY
    secret = os.environ.get("LIVEKIT_API_SECRET") or API_SECRET
    agent = os.environ.get("LIVEKIT_AGENT_NAME") or DEFAULT_AGENT_NAME
    await create_room(url, key, secret, name)
    await dispatch(url, key, secret, name, agent, config)
    print(
        f"room {name}: dispatched '{agent}'. Join at {url} with token:\n"
        f"{token(key, secret, name, identity)}"
    )


def main() -> None:
    load_env_files(Path.cwd())
    parser = argparse.ArgumentParser(
        prog="python -m stack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_up = sub.add_parser("up", help="start the LiveKit server and the worker")
    p_up.add_argument("--fakes", action="store_true", help="use the local fake providers")
    p_up.add_argument("--command", default="dev", choices=["dev", "start"])
    p_room = sub.add_parser("room", help="create a room and dispatch the agent into it")
    p_room.add_argument("name")
    p_room.add_argument("--config", default="", help="room config JSON (dispatch metadata)")
    p_room.add_argument("--identity", default="user")
    args = parser.parse_args()
    if args.cmd == "up":
        up(args.fakes, args.command)
    else:
        asyncio.run(room(args.name, args.config, args.identity))


if __name__ == "__main__":
    main()
