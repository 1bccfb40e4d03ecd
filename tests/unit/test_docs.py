"""The docs' parts that come from code say what the code says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agent import docs

ROOT = Path(__file__).resolve().parents[2]


def test_generated_parts_match_the_code() -> None:
    assert docs.stale() == [], "run `python -m agent docs` and commit the result"


def test_a_stale_part_is_found_and_rewritten(tmp_path: Path) -> None:
    for file in {file for file, _ in docs.PARTS.values()}:
        (tmp_path / file).parent.mkdir(parents=True, exist_ok=True)
        text = (ROOT / file).read_text()
        (tmp_path / file).write_text(text.replace("| `parley.error` |", "| `parley.oops` |"))
    assert docs.stale(tmp_path) == ["README.md (client-protocol)"]
    docs.main(tmp_path)
    assert docs.stale(tmp_path) == []


def test_a_missing_part_is_named() -> None:
    with pytest.raises(ValueError, match="generated: x"):
        docs.rendered("no markers here", "x", "table")


def test_every_worker_variable_is_documented() -> None:
    documented = (ROOT / "docs" / "environment.md").read_text()
    source = "\n".join(p.read_text() for p in (ROOT / "agent").rglob("*.py"))
    for name in sorted(set(re.findall(r"\bPARLEY_[A-Z_]+\b", source))):
        assert f"`{name}`" in documented, f"docs/environment.md does not document {name}"
