"""``python -m agent``: the Parley worker.

- ``python -m agent start|dev|connect ...``: the livekit-agents CLI (``start`` in production).
- ``python -m agent schema [--markdown]``: the room-config JSON Schema (or a field table).
- ``python -m agent docs``: rewrites the docs' parts that come from code (see ``docs.py``).
- ``python -m agent playground [--port 8780]``: the web page to try every mode from a browser.
- ``python -m agent dial --to +1... --trunk ST_...``: calls a patient back into an intake room.
- ``python -m agent eval turns --cases DIR [--preset NAME] [--json FILE]``: turn-taking
  presets measured on labelled recordings.
"""

from __future__ import annotations

import sys

from .config import ParleyError, resolve
from .config.defaults import worker_layers
from .config.schema import field_table, json_schema
from .settings import WorkerSettings, load_env_files


def main(argv: list[str]) -> int:
    if argv[1:2] == ["schema"]:
        print(field_table() if "--markdown" in argv else json_schema())
        return 0
    if argv[1:2] == ["docs"]:
        from .docs import main as write_docs

        return write_docs()
    if argv[1:3] == ["eval", "turns"]:
        from .eval.turns import main as eval_turns

        return eval_turns(argv[3:])
    if argv[1:2] == ["dial"]:
        from .dial import main as dial

        load_env_files()
        return dial(argv[2:])
    if argv[1:2] == ["playground"]:
        from .playground.server import main as playground

        return playground(argv[2:])
    load_env_files()
    settings = WorkerSettings.from_env()
    try:
        # Fail at start-up, not in the first room, when the worker's own defaults are wrong.
        resolve(worker_layers(settings))
    except ParleyError as e:
        where = f" ({e.report.field})" if e.report.field else ""
        print(f"parley: invalid worker default config{where}: {e}", file=sys.stderr)
        return 2
    from livekit.agents import cli

    from .worker import create_server

    cli.run_app(create_server(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
