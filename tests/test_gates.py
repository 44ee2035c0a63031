"""The code gates the README's test command runs (rule set and mypy settings in pyproject.toml):
ruff over the whole tree; mypy with disallow_untyped_defs on the Qt-free, torch-free layers; mypy
with the project's settings (check_untyped_defs) over both packages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

#: held to disallow_untyped_defs: the pure inference layers and the viewer's Qt-free packages
STRICT_PACKAGES = ("inference.imaging", "inference.nodules", "inference.domain", "inference.service",
                   "inference.longitudinal", "viewer.export", "viewer.review", "viewer.pacs", "viewer.scale")


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env, timeout=600)


def _report(r: subprocess.CompletedProcess[str]) -> str:
    return f"{' '.join(r.args)} exited {r.returncode}\n{r.stdout}{r.stderr}"


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for both mypy runs: the second reuses what the first one parsed."""
    return tmp_path_factory.mktemp("mypy-cache")


def test_the_tree_is_ruff_clean() -> None:
    r = _run(str(BIN / "ruff"), "check", "--no-cache", ".")
    assert r.returncode == 0, _report(r)


def test_the_pure_layers_are_fully_typed(mypy_cache: Path) -> None:
    packages = [arg for name in STRICT_PACKAGES for arg in ("-p", name)]
    r = _run(str(BIN / "mypy"), "--cache-dir", str(mypy_cache), "--disallow-untyped-defs", *packages)
    assert r.returncode == 0, _report(r)


def test_both_packages_are_type_checked(mypy_cache: Path) -> None:
    r = _run(str(BIN / "mypy"), "--cache-dir", str(mypy_cache), "-p", "inference", "-p", "viewer")
    assert r.returncode == 0, _report(r)


def test_the_gate_fails_on_an_untyped_function(tmp_path: Path) -> None:
    """The strict run is not vacuous: an untyped function in a module it checks fails it."""
    bad = tmp_path / "untyped_probe.py"
    bad.write_text("def probe(x):\n    return x\n")
    r = _run(str(BIN / "mypy"), "--no-incremental", "--disallow-untyped-defs", str(bad))
    assert r.returncode != 0 and "untyped_probe.py" in r.stdout, _report(r)
