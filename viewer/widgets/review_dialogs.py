"""Keyboard-first dialogs of the review: reject reason, box editor, and the shortcut help overlay."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QFrame,
                               QLabel, QLineEdit, QListWidget, QVBoxLayout, QWidget)

from inference.domain.finding import Box3D
from viewer.review.model import RejectReason

#: (key, what it does) — shown by the help overlay, bound by review_docks.install_review
SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("A", "accept the selected finding"),
    ("R", "reject it (pick a reason: 1–6 or arrows, then Enter)"),
    ("E", "edit its box (centre and size in mm); it is re-measured"),
    ("I", "add a missed nodule at the crosshair"),
    ("D", "add-nodule tool: click a nodule's centre, or drag a box around it, in any plane"),
    ("Drag", "drag the selected box to move it, its edges or corners to resize; Esc cancels"),
    ("C", "comment on the selected finding"),
    ("N / P", "next / previous undecided finding"),
    ("Ctrl+Z / Ctrl+Shift+Z", "undo / redo"),
    ("Ctrl+Return", "sign off the study"),
    ("Ctrl+Shift+N", "next study in the worklist"),
    ("Shift+N / Shift+P", "next / previous finding (any state)"),
    ("Shift+R", "reset the 3D camera"),
    ("F1 or ?", "show or hide this help"),
)


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
        lay.addWidget(QLabel("Why is this not a nodule?"))
        lay.addWidget(self.reasons)
        lay.addWidget(self.text)
        lay.addWidget(buttons)
        self.reasons.setFocus()

    @property
    def reason(self) -> RejectReason:
        return list(RejectReason)[max(0, self.reasons.currentRow())]

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt)
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
        fields = [(f"centre {a} (mm)", c, -5000.0, 5000.0) for a, c in zip("xyz", box.center)]
        fields += [(f"size {a} (mm)", s, 1.0, 200.0) for a, s in zip("xyz", box.size)]
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
        return Box3D.around(tuple(v[:3]), tuple(v[3:]))

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

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("reviewHelp")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("#reviewHelp { background: rgba(20, 20, 20, 225); border-radius: 8px; }"
                           "QLabel { color: white; font-size: 13px; }")
        rows = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;&nbsp;{v}</td></tr>" for k, v in SHORTCUTS)
        self.label = QLabel(f"<h3>Review shortcuts</h3><table>{rows}</table>", self)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        lay = QVBoxLayout(self)
        lay.addWidget(self.label)
        self.hide()

    def toggle(self) -> None:
        if self.isVisible():
            self.hide()
            return
        self.adjustSize()
        p = self.parentWidget()
        self.move(max(0, (p.width() - self.width()) // 2), max(0, (p.height() - self.height()) // 2))
        self.raise_()
        self.show()
        self.setFocus()

    def keyPressEvent(self, event) -> None:  # noqa: N802
        self.hide()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self.hide()
