"""The parts of the docs that come from code, kept in step with it.

A generated part sits between ``<!-- generated: NAME -->`` and ``<!-- end: NAME -->``;
``python -m agent docs`` rewrites every such part from its source, and a unit test fails
while any of them differs from what the code says.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from . import protocol
from .config.errors import error_table
from .config.schema import field_table

ROOT = Path(__file__).resolve().parent.parent

PARTS: dict[str, tuple[str, Callable[[], str]]] = {
    "client-protocol": ("README.md", protocol.markdown_table),
    "config-fields": ("docs/config.md", field_table),
    "error-codes": ("docs/errors.md", error_table),
}
"""Name → (file under the checkout, what writes it)."""


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- generated: {re.escape(name)} -->\n)(.*?)(<!-- end: {re.escape(name)} -->)",
        re.DOTALL,
    )


def rendered(text: str, name: str, content: str) -> str:
    """``text`` with the part ``name`` replaced by ``content``; ValueError if it has none."""
    pattern = _pattern(name)
    if not pattern.search(text):
        raise ValueError(f"no '<!-- generated: {name} -->' … '<!-- end: {name} -->' part")
    return pattern.sub(lambda m: f"{m[1]}{content}\n{m[3]}", text)


def stale(root: Path = ROOT) -> list[str]:
    """The files whose generated parts differ from the code (or lack a part)."""
    out = []
    for name, (file, make) in PARTS.items():
        text = (root / file).read_text()
        try:
            if rendered(text, name, make()) != text:
                out.append(f"{file} ({name})")
        except ValueError as e:
            out.append(f"{file}: {e}")
    return out


def main(root: Path = ROOT) -> int:
    for name, (file, make) in PARTS.items():
        path = root / file
        path.write_text(rendered(path.read_text(), name, make()))
        print(f"docs: {file} ({name}) written")
    return 0
