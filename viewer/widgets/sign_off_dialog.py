"""The "Sign off without AI" dialog: says why sign-off with AI is refused and asks for the reason.

Thin: the rule and the audit are :meth:`viewer.review.session.ReviewSession.sign_off_without_ai`.
Every text shown here is plain text (the study UID and the refusal come from outside).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPlainTextEdit, QVBoxLayout, QWidget

from viewer.widgets.plain_text import plain_label


class SignOffWithoutAiDialog(QDialog):
    """``chosen(reason)`` when the reader confirms; OK stays disabled while the reason is blank."""

    chosen = Signal(str)

    def __init__(self, study: str, why: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sign off without AI")
        self.explain = plain_label(f"Study {study}: {why}\n\nSign it off as read WITHOUT AI? The reason is kept in the "
                              "audit log and every export says the study was read without AI.")
        self.explain.setWordWrap(True)
        self.reason = QPlainTextEdit()
        self.reason.setPlaceholderText("Reason (required), e.g. AI unavailable, urgent read")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Sign off without AI")
        self.ok.setEnabled(False)
        self.reason.textChanged.connect(lambda: self.ok.setEnabled(bool(self.reason.toPlainText().strip())))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.explain)
        lay.addWidget(self.reason)
        lay.addWidget(self.buttons)

    def accept(self) -> None:
        text = self.reason.toPlainText().strip()
        if not text:
            return
        super().accept()
        self.chosen.emit(text)
