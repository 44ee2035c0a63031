"""First-run prompt for the reviewer's name, kept in QSettings through the Qt-free settings."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLineEdit, QVBoxLayout, QWidget

from viewer.review.errors import NoReviewer
from viewer.review.settings import APP_NAME, ReviewSettings, validate_reviewer
from viewer.widgets.plain_text import plain_label


def qt_settings() -> ReviewSettings:
    """The app's settings in QSettings (the platform's native place)."""
    return ReviewSettings(QSettings(APP_NAME, APP_NAME))


class ReviewerDialog(QDialog):
    """Asks for the name recorded with every decision; OK stays disabled until it is valid."""

    def __init__(self, current: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Who is reviewing?")
        self.name_edit = QLineEdit(current)
        self.name_edit.setPlaceholderText("e.g. Dr A. Lovelace")
        self.problem = plain_label()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(plain_label("Your name is recorded with every decision and sign-off."))
        lay.addWidget(self.name_edit)
        lay.addWidget(self.problem)
        lay.addWidget(self.buttons)
        self.name_edit.textChanged.connect(self._check)
        self._check(current)

    def _check(self, text: str) -> None:
        try:
            validate_reviewer(text)
            self.problem.setText("")
            ok = True
        except NoReviewer as exc:
            self.problem.setText(exc.problem if text else "")
            ok = False
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    @property
    def name(self) -> str:
        return validate_reviewer(self.name_edit.text())


def ensure_reviewer(settings: ReviewSettings, parent: QWidget | None = None) -> str:
    """The stored reviewer, asking once (modal) on first run; "" when the user cancels."""
    if settings.reviewer:
        return settings.reviewer
    dialog = ReviewerDialog("", parent)
    if dialog.exec() == QDialog.DialogCode.Accepted:
        return settings.set_reviewer(dialog.name)
    return ""
