"""Code gates of the viewer side: ruff over viewer/, tests/, benchmarks/ and scripts/, mypy with
disallow_untyped_defs on the Qt-free packages and mypy (the project's settings, check_untyped_defs)
over the whole viewer package (the README's test command runs them in CI).

tests/inference is linted by the inference side's own gate; both gates together cover the tree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

#: Qt-free packages held to disallow_untyped_defs
STRICT_PACKAGES = ("viewer.export", "viewer.review", "viewer.pacs", "viewer.scale")


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env, timeout=600)


def _report(r: subprocess.CompletedProcess[str]) -> str:
    return f"{' '.join(r.args)} exited {r.returncode}\n{r.stdout}{r.stderr}"


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for both mypy runs: the second reuses the stubs the first one parsed."""
    return tmp_path_factory.mktemp("mypy-cache")


def test_viewer_tests_benchmarks_scripts_are_ruff_clean() -> None:
    r = _run(str(BIN / "ruff"), "check", "--no-cache", "--extend-exclude", "tests/inference",
             "viewer", "tests", "benchmarks", "scripts")
    assert r.returncode == 0, _report(r)


def test_qt_free_packages_are_fully_typed(mypy_cache: Path) -> None:
    packages = [arg for name in STRICT_PACKAGES for arg in ("-p", name)]
    r = _run(str(BIN / "mypy"), "--cache-dir", str(mypy_cache), "--disallow-untyped-defs", *packages)
    assert r.returncode == 0, _report(r)


def test_viewer_is_type_checked(mypy_cache: Path) -> None:
    r = _run(str(BIN / "mypy"), "--cache-dir", str(mypy_cache), "-p", "viewer")
    assert r.returncode == 0, _report(r)
