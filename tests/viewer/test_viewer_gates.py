"""Code gates of the viewer: ruff over the whole package, mypy with disallow_untyped_defs on the
Qt-free review model (the README's test command runs them in CI)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env, timeout=600)


def test_viewer_is_ruff_clean() -> None:
    r = _run(str(BIN / "ruff"), "check", "viewer", "tests/test_architecture.py", "scripts/window_screenshot.py")
    assert r.returncode == 0, r.stdout + r.stderr


def test_review_model_is_fully_typed() -> None:
    r = _run(str(BIN / "mypy"), "-p", "viewer.review", "--disallow-untyped-defs")
    assert r.returncode == 0, r.stdout + r.stderr
