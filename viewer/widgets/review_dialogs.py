"""Keyboard-first dialogs of the review: reject reason, box editor, and the shortcut help overlay."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QFrame,
                               QLineEdit, QListWidget, QVBoxLayout, QWidget)

from inference.domain.finding import Box3D
from viewer.review.model import RejectReason
from viewer.points import as_point
from viewer.widgets.plain_text import plain_label, rich_label

#: (action names, what they do) — the help overlay shows each with its keys from the key map;
#: an entry without action names is a mouse gesture, shown as written
SHORTCUTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("accept",), "accept the selected finding"),
    (("reject",), "reject it (pick a reason: 1–6 or arrows, then Enter)"),
    (("edit",), "edit its box (centre and size in mm); it is re-measured"),
    (("add_here",), "add a missed nodule at the crosshair"),
    (("add_tool",), "add-nodule tool: click a nodule's centre, or drag a box around it, in any plane"),
    ((), "Drag: drag the selected box to move it, its edges or corners to resize; Esc cancels"),
    (("comment",), "comment on the selected finding"),
    (("next_undecided", "previous_undecided"), "next / previous undecided finding"),
    (("undo", "redo"), "undo / redo"),
    (("sign_off",), "sign off the study"),
    (("next_study",), "next study in the worklist"),
    (("next_finding", "previous_finding"), "next / previous finding (any state)"),
    (("zoom_to_finding",), "zoom to the selected finding (F fits the whole slice)"),
    (("reset_3d",), "reset the 3D camera"),
    (("help",), "show or hide this help"),
)


def help_rows(keys_of: Callable[[str], tuple[str, ...]]) -> list[tuple[str, str]]:
    """(keys, what they do) for the help overlay, with the keys as bound now."""
    rows = []
    for names, text in SHORTCUTS:
        if not names:
            gesture, _, what = text.partition(": ")
            rows.append((gesture, what))
        elif len(names) == 1:
            rows.append((" or ".join(keys_of(names[0])) or "(no key)", text))
        else:
            rows.append((" / ".join((keys_of(n) or ("(no key)",))[0] for n in names), text))
    return rows


class RejectDialog(QDialog):
    """Reason list (digits 1–6 pick one) and a free-text field; Enter confirms."""

    chosen = Signal(object, str)  # RejectReason, text

    def __init__(self, finding_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Reject {finding_id}")
        self.reasons = QListWidget()
        for i, r in enumerate(RejectReason, start=1):
            self.reasons.addItem(f"{i}  {r.value}")
        self.reasons.setCurrentRow(0)
        self.text = QLineEdit()
        self.text.setPlaceholderText("optional note (required for 'other')")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(plain_label("Why is this not a nodule?"))
        lay.addWidget(self.reasons)
        lay.addWidget(self.text)
        lay.addWidget(buttons)
        self.reasons.setFocus()

    @property
    def reason(self) -> RejectReason:
        return list(RejectReason)[max(0, self.reasons.currentRow())]

    def keyPressEvent(self, event) -> None:
        text = event.text()
        if text.isdigit() and 1 <= int(text) <= len(RejectReason) and not self.text.hasFocus():
            self.reasons.setCurrentRow(int(text) - 1)
            return
        super().keyPressEvent(event)

    def accept(self) -> None:
        if self.reason is RejectReason.OTHER and not self.text.text().strip():
            self.text.setFocus()
            self.text.setPlaceholderText("say what it is (required for 'other')")
            return
        super().accept()
        self.chosen.emit(self.reason, self.text.text())


class BoxDialog(QDialog):
    """Centre (x, y, z) and size in world LPS mm of a box; Enter applies."""

    chosen = Signal(object)  # Box3D

    def __init__(self, title: str, box: Box3D, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        form = QFormLayout(self)
        self.spins: list[QDoubleSpinBox] = []
        fields = [(f"centre {a} (mm)", c, -5000.0, 5000.0) for a, c in zip("xyz", box.center, strict=True)]
        fields += [(f"size {a} (mm)", s, 1.0, 200.0) for a, s in zip("xyz", box.size, strict=True)]
        for label, value, lo, hi in fields:
            spin = QDoubleSpinBox()
            spin.setRange(lo, hi)
            spin.setDecimals(1)
            spin.setValue(value)
            form.addRow(label, spin)
            self.spins.append(spin)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    @property
    def box(self) -> Box3D:
        v = [s.value() for s in self.spins]
        return Box3D.around(as_point(v[:3]), as_point(v[3:]))

    def accept(self) -> None:
        super().accept()
        self.chosen.emit(self.box)


class CommentDialog(QDialog):
    chosen = Signal(str)

    def __init__(self, finding_id: str, current: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Comment on {finding_id}")
        self.text = QLineEdit(current)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text)
        lay.addWidget(buttons)

    def accept(self) -> None:
        super().accept()
        self.chosen.emit(self.text.text())


class HelpOverlay(QFrame):
    """A translucent panel over its parent listing the review shortcuts; any key or click hides it."""

    def __init__(self, parent: QWidget, rows: Callable[[], list[tuple[str, str]]]) -> None:
        super().__init__(parent)
        self._rows = rows
        self.setObjectName("reviewHelp")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("#reviewHelp { background: rgba(20, 20, 20, 225); border-radius: 8px; }"
                           "QLabel { color: white; font-size: 13px; }")
        self.label = rich_label("", self)  # built here from the key map, escaped
        lay = QVBoxLayout(self)
        lay.addWidget(self.label)
        self.hide()

    def toggle(self) -> None:
        if self.isVisible():
            self.hide()
            return
        rows = "".join(f"<tr><td><b>{html.escape(k)}</b></td><td>&nbsp;&nbsp;{html.escape(v)}</td></tr>"
                       for k, v in self._rows())
        self.label.setText(f"<h3>Review shortcuts</h3><table>{rows}</table>")
        self.adjustSize()
        p = self.parentWidget()
        if p is not None:
            self.move(max(0, (p.width() - self.width()) // 2), max(0, (p.height() - self.height()) // 2))
        self.raise_()
        self.show()
        self.setFocus()

    def keyPressEvent(self, event) -> None:
        self.hide()

    def mousePressEvent(self, event) -> None:
        self.hide()
