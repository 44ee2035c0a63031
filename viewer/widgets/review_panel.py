"""The review's part of the findings dock: decision buttons, notices, and the NOT SAVED banner.

Thin: the findings themselves are in :class:`viewer.widgets.findings_list.FindingsList`; the
buttons trigger the review actions (created in :mod:`viewer.controllers.review_setup`) and the logic
is in :mod:`viewer.review.session`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QGridLayout, QPushButton, QToolButton, QVBoxLayout, QWidget

from viewer.widgets.plain_text import plain_label

BUTTONS = ("accept", "reject", "edit", "add_here", "add_tool", "comment", "undo", "redo",
           "sign_off", "reopen", "help")


class ReviewPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.notice = plain_label(wrap=True)
        self.unsaved = plain_label(wrap=True)
        self.unsaved.setStyleSheet("color: #ff6060; font-weight: bold;")
        self.retry = QPushButton("Retry saving")
        self.retry.hide()
        self.buttons: dict[str, QToolButton] = {}
        grid = QGridLayout()
        grid.setSpacing(2)
        for i, name in enumerate(BUTTONS):
            b = QToolButton()
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.buttons[name] = b
            grid.addWidget(b, i // 6, i % 6)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(grid)
        lay.addWidget(self.notice)
        lay.addWidget(self.unsaved)
        lay.addWidget(self.retry)

    def bind(self, actions: dict[str, QAction]) -> None:
        """Each button shows and triggers the action of the same name."""
        for name, button in self.buttons.items():
            if name in actions:
                button.setDefaultAction(actions[name])

    def show_unsaved(self, pending: int, error: str = "") -> None:
        if pending:
            self.unsaved.setText(f"{pending} action(s) NOT SAVED yet: {error}")
            self.retry.show()
        else:
            self.unsaved.setText("")
            self.retry.hide()
