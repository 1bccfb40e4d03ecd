"""``python -m fakes``: serve the fake providers on 127.0.0.1 until interrupted.

Prints one JSON line (the bound ports) once both listen, so a parent process can wait for it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import ssl

from aiohttp import web

from . import gemini, openai
from .record import Recorder


async def _serve(args: argparse.Namespace) -> None:
    recorder = Recorder()
    runners: list[web.AppRunner] = []

    async def start(routes: list[web.RouteDef], port: int, tls: ssl.SSLContext | None) -> int:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.add_routes(recorder.routes() + routes)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port, ssl_context=tls)
        await site.start()
        runners.append(runner)
        return int(runner.addresses[-1][1])

    tls = None
    if args.certfile:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.certfile, args.keyfile)
    ports = {
        "openai_port": await start(openai.routes(recorder), args.openai_port, None),
        "gemini_port": await start(gemini.routes(recorder), args.gemini_port, tls),
    }
    print(json.dumps(ports), flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for runner in runners:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m fakes", description=__doc__)
    parser.add_argument("--openai-port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--gemini-port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--certfile", help="TLS certificate for the Gemini endpoint")
    parser.add_argument("--keyfile", help="TLS key for the Gemini endpoint")
    asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
