"""The layers of DESIGN.md, held by import-linter, and the module-size rule.

The contracts are run on the real packages (they must all be kept) and on a small package written
here that breaks one on purpose (lint-imports must then fail), so the check can fail.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(config: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([str(LINT_IMPORTS), str(config)], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=300)


def test_import_contracts_hold() -> None:
    result = _lint_imports(REPO / "pyproject.toml", REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout and " BROKEN" not in result.stdout


def test_a_broken_contract_fails_the_check(tmp_path: Path) -> None:
    pkg = tmp_path / "layered"
    (pkg / "review").mkdir(parents=True)
    (pkg / "widgets").mkdir()
    for init in (pkg / "__init__.py", pkg / "review" / "__init__.py", pkg / "widgets" / "__init__.py"):
        init.write_text("")
    (pkg / "widgets" / "panel.py").write_text("VALUE = 1\n")
    (pkg / "review" / "session.py").write_text("from layered.widgets.panel import VALUE  # the breach\n")
    config = tmp_path / "contracts.toml"
    config.write_text(textwrap.dedent("""
        [tool.importlinter]
        root_packages = ["layered"]

        [[tool.importlinter.contracts]]
        name = "review imports no widgets"
        type = "forbidden"
        source_modules = ["layered.review"]
        forbidden_modules = ["layered.widgets"]
    """))
    result = _lint_imports(config, tmp_path)
    assert result.returncode != 0, result.stdout
    assert "1 broken" in result.stdout and "layered.review.session -> layered.widgets.panel" in result.stdout


def _direct_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return names


def test_the_scene_imports_no_qt_widgets() -> None:
    """import-linter cannot name PySide6.QtWidgets (a submodule of an external package): the direct
    imports are checked here, the indirect ones by the contract "the scene draws without Qt widgets"."""
    offenders = [str(p.relative_to(REPO)) for p in (REPO / "viewer" / "scene").rglob("*.py")
                 if any(n == "PySide6.QtWidgets" or n.startswith("PySide6.QtWidgets.") for n in _direct_imports(p))]
    assert not offenders, offenders
    assert "PySide6.QtWidgets" in _direct_imports(REPO / "viewer" / "widgets" / "findings_list.py")  # the check sees it


def test_the_menus_do_not_import_the_window() -> None:
    """viewer.actions describes what it acts on (a protocol); the window imports it, not the reverse."""
    import grimp

    graph = grimp.build_graph("viewer", "inference")
    assert graph.find_shortest_chain(importer="viewer.main_window", imported="viewer.actions") is not None
    assert graph.find_shortest_chain(importer="viewer.actions", imported="viewer.main_window") is None


def test_no_module_is_over_about_400_lines() -> None:
    too_long = []
    for package in ("inference", "viewer"):
        for path in (REPO / package).rglob("*.py"):
            n = len(path.read_text(encoding="utf-8").splitlines())
            if n > 450:
                too_long.append(f"{path.relative_to(REPO)}: {n} lines")
    assert not too_long, "split these by responsibility:\n" + "\n".join(too_long)
