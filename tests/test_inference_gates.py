"""Lint and type gates of the inference package (the rule set and the mypy settings are in
pyproject.toml): ruff clean on inference/, mypy with --disallow-untyped-defs clean on its pure
layers (imaging, nodules, domain, service)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TYPED = ("inference.imaging", "inference.nodules", "inference.domain", "inference.service")


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env, timeout=600)


def test_ruff_is_clean_on_inference() -> None:
    result = _run(str(BIN / "ruff"), "check", "inference")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean_on_the_typed_inference_layers() -> None:
    packages = [arg for p in TYPED for arg in ("-p", p)]
    result = _run(str(BIN / "mypy"), *packages, "--disallow-untyped-defs")
    assert result.returncode == 0 and "Success" in result.stdout, result.stdout + result.stderr
