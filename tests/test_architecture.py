"""The layers of DESIGN.md, held by import-linter, and the module-size rule."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    exe = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(exe), "--config", str(REPO / "pyproject.toml")], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower().split("contracts:")[-1] or "0 broken" in result.stdout


def test_no_module_is_over_about_400_lines() -> None:
    too_long = []
    for package in ("inference", "viewer"):
        for path in (REPO / package).rglob("*.py"):
            n = len(path.read_text(encoding="utf-8").splitlines())
            if n > 450:
                too_long.append(f"{path.relative_to(REPO)}: {n} lines")
    assert not too_long, "split these by responsibility:\n" + "\n".join(too_long)
