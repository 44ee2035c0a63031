"""Gate: outside text cannot reach a Qt rich-text renderer by a new widget that forgets.

Every label and message box in ``viewer/`` comes from :mod:`viewer.widgets.plain_text`; a tooltip
is a literal or goes through ``plain_tip``; nothing but that module turns rich text on. The scan
reads the source (no Qt needed) and a second test shows that it catches each kind of slip.
"""

from __future__ import annotations

import ast
from pathlib import Path

VIEWER = Path(__file__).resolve().parents[3] / "viewer"
HELPER = VIEWER / "widgets" / "plain_text.py"
RENDERERS = {"QLabel", "QMessageBox"}
STATIC_BOXES = {"critical", "warning", "information", "question", "about"}


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _tip_ok(arg: ast.expr) -> bool:
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return True
    return isinstance(arg, ast.Call) and _name(arg.func) == "plain_tip"


def violations(source: str, where: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        line = f"{where}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.ClassDef) and any(_name(b) in RENDERERS for b in node.bases):
            found.append(f"{line}: class {node.name} derives from a Qt label/message box (use PlainLabel)")
        if not isinstance(node, ast.Call):
            continue
        func = _name(node.func)
        if func in RENDERERS:
            found.append(f"{line}: {func}(...) created directly (use plain_label / plain_message_box)")
        if (isinstance(node.func, ast.Attribute) and node.func.attr in STATIC_BOXES
                and _name(node.func.value) == "QMessageBox"):
            found.append(f"{line}: QMessageBox.{node.func.attr}(...) renders rich text (use plain_message_box)")
        if func == "setToolTip" and node.args and not _tip_ok(node.args[0]):
            found.append(f"{line}: setToolTip with computed text (wrap it in plain_tip)")
        if func == "addRow" and node.args and isinstance(node.args[0], (ast.JoinedStr, ast.BinOp)):
            found.append(f"{line}: a form row label from computed text (QFormLayout makes an AutoText label: "
                         "pass plain_label(...))")
        if func == "setTextFormat" and node.args and _name(node.args[0]) in ("RichText", "AutoText", "MarkdownText"):
            found.append(f"{line}: rich text turned on (only plain_text.rich_label may)")
    return found


def test_every_label_box_and_tooltip_in_viewer_goes_through_the_plain_text_helper():
    found = []
    for path in sorted(VIEWER.rglob("*.py")):
        if path != HELPER:
            found += violations(path.read_text(encoding="utf-8"), str(path.relative_to(VIEWER.parent)))
    assert found == []


def test_the_gate_catches_each_slip():
    bad = '''
from PySide6.QtWidgets import QLabel, QMessageBox
class Pane(QLabel): pass
a = QLabel(name)
b = QtWidgets.QMessageBox(icon, "t", text)
QMessageBox.critical(None, "t", text)
w.setToolTip(path)
w.setToolTip(f"{name}")
w.setTextFormat(Qt.TextFormat.RichText)
form.addRow(f"Patient {name}", field)
'''
    found = violations(bad, "bad.py")
    assert [f.split(": ", 1)[0] for f in found] == [f"bad.py:{n}" for n in (3, 4, 5, 6, 7, 8, 9, 10)]
    good = '''
a = plain_label(name)
w.setToolTip("constant")
w.setToolTip(plain_tip(path))
box = plain_message_box(icon, "t", text)
form.addRow("Window", field)
form.addRow(plain_label(name), field)
'''
    assert violations(good, "good.py") == []
