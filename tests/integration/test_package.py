"""Installing Parley installs the worker and its page, never the test kit."""

from __future__ import annotations

import shutil
import subprocess
import sys
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from stack.playground import PlaygroundProcess, start_playground
from stack.process import ROOT

CACHES = shutil.ignore_patterns("__pycache__")
PAGE = ("index.html", "app.js", "style.css", "vendor/livekit-client.umd.js")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out, source = tmp_path_factory.mktemp("wheel"), tmp_path_factory.mktemp("source")
    # What a build needs, copied: an in-tree build would leave build/ in the checkout.
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("agent", "web"):
        shutil.copytree(ROOT / name, source / name, symlinks=True, ignore=CACHES)
    # The tests' network namespace reaches no registry: build with the dev setuptools.
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip_wheel, "-w", str(out), str(source)], check=True)
    return next(out.glob("parley-*.whl"))


@pytest.fixture(scope="module")
def installed_page(
    wheel: Path, tmp_path_factory: pytest.TempPathFactory, log_dir: Path
) -> Iterator[tuple[PlaygroundProcess, Path]]:
    """The wheel installed on its own, its playground started away from the checkout."""
    site = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), wheel],
        check=True,
    )
    page = start_playground(
        log_dir, {"PYTHONPATH": str(site)}, agent_name="parley-package", cwd=site.parent
    )
    yield page, site
    page.stop()


def test_the_wheel_has_the_worker_and_the_page_and_no_test_kit(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.startswith("parley-")}
    assert tops == {"agent"}, tops
    for file in PAGE:
        assert f"agent/playground/web/{file}" in names, file


def test_the_installed_playground_serves_the_page(
    installed_page: tuple[PlaygroundProcess, Path],
) -> None:
    page, site = installed_page
    for path, file in (("", "index.html"), ("static/app.js", "app.js")):
        with urllib.request.urlopen(page.url + path, timeout=10) as resp:
            assert resp.status == 200
            assert resp.read() == (ROOT / "web" / file).read_bytes()
    # Served from the install (real files), not from the checkout's web/.
    assert f"page {site / 'agent' / 'playground' / 'web'})" in page.process.log_text()
