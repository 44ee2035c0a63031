"""The findings review panel: findings with their review state, decision buttons, study state.

Thin: it shows a :class:`~viewer.review.model.ReviewedStudy` and triggers the review actions
(created in :mod:`viewer.widgets.review_docks`); the logic is in :mod:`viewer.review.session`.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QColor
from PySide6.QtWidgets import (QAbstractItemView, QGridLayout, QHeaderView, QLabel, QPushButton,
                               QTableWidget, QTableWidgetItem, QToolButton, QVBoxLayout, QWidget)

from viewer.review.model import FindingState, FindingStatus, ReviewedStudy

COLUMNS = ("ID", "State", "Reason / comment", "Diameter", "Lung-RADS", "Risk", "Score")
#: row background per review state (text stays readable on light and dark styles)
STATE_BACKGROUND = {
    FindingStatus.PENDING: QColor(120, 100, 0, 90),
    FindingStatus.ACCEPTED: QColor(20, 140, 40, 90),
    FindingStatus.REJECTED: QColor(170, 30, 30, 90),
}
BUTTONS = ("accept", "reject", "edit", "add_here", "add_tool", "comment", "undo", "redo",
           "sign_off", "reopen", "help")


def row_cells(fs: FindingState) -> tuple[str, ...]:
    f = fs.finding
    state = fs.status.value + (" (added)" if f.source.value == "reviewer" else "")
    note = " · ".join(x for x in (fs.reason.value if fs.reason else "", fs.comment) if x)
    diam = f"{f.diameter_mm:.1f} mm" if f.diameter_mm is not None else "—"
    rads = f.analysis.lung_rads.value if f.analysis is not None else "—"
    risk = f.analysis.malignancy_risk if f.analysis is not None else None
    return (f.finding_id, state, note, diam, rads, "—" if risk is None else f"{100 * risk:.1f} %",
            f"{f.score:.2f}")


class ReviewPanel(QWidget):
    finding_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.study_label = QLabel("No study open")
        self.study_label.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys go to the window's shortcuts
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._selected)
        self.notice = QLabel("")
        self.notice.setWordWrap(True)
        self.unsaved = QLabel("")
        self.unsaved.setStyleSheet("color: #ff6060; font-weight: bold;")
        self.unsaved.setWordWrap(True)
        self.retry = QPushButton("Retry saving")
        self.retry.hide()
        self.buttons: dict[str, QToolButton] = {}
        grid = QGridLayout()
        for i, name in enumerate(BUTTONS):
            b = QToolButton()
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.buttons[name] = b
            grid.addWidget(b, i // 4, i % 4)
        lay = QVBoxLayout(self)
        lay.addWidget(self.study_label)
        lay.addWidget(self.table, 1)
        lay.addLayout(grid)
        lay.addWidget(self.notice)
        lay.addWidget(self.unsaved)
        lay.addWidget(self.retry)
        self._ids: list[str] = []
        self._quiet = False

    def bind(self, actions: dict[str, QAction]) -> None:
        """Each button shows and triggers the action of the same name."""
        for name, button in self.buttons.items():
            if name in actions:
                button.setDefaultAction(actions[name])

    def show_study(self, study: ReviewedStudy | None, selected: str | None = None) -> None:
        self._quiet = True
        self.table.setRowCount(0)
        self._ids = []
        if study is None:
            self.study_label.setText("No study open")
            self._quiet = False
            return
        undecided = sum(fs.status is FindingStatus.PENDING for fs in study.findings)
        who = f", signed off by {study.signed_off_by}" if study.signed_off_by else ""
        self.study_label.setText(f"<b>{study.status.value}</b>{who} · {len(study.findings)} finding(s), "
                                 f"{undecided} undecided")
        for row, fs in enumerate(study.findings):
            self.table.insertRow(row)
            for col, text in enumerate(row_cells(fs)):
                item = QTableWidgetItem(text)
                item.setBackground(STATE_BACKGROUND[fs.status])
                self.table.setItem(row, col, item)
            self._ids.append(fs.finding.finding_id)
        if selected in self._ids:
            self.table.selectRow(self._ids.index(selected))
        self._quiet = False

    def show_unsaved(self, pending: Sequence[object], error: str = "") -> None:
        if pending:
            self.unsaved.setText(f"{len(pending)} action(s) NOT SAVED yet: {error}")
            self.retry.show()
        else:
            self.unsaved.setText("")
            self.retry.hide()

    @property
    def finding_ids(self) -> list[str]:
        return list(self._ids)

    def state_text(self, finding_id: str) -> str:
        return self.table.item(self._ids.index(finding_id), 1).text()

    def _selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows and not self._quiet:
            self.finding_clicked.emit(self._ids[rows[0].row()])
