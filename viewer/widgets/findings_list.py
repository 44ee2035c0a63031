"""The one findings list: ID, status, type, size, change vs prior, Lung-RADS, risk, score.

Thin: it shows :class:`~viewer.review.finding_rows.FindingRow`\\ s (built Qt-free) in a sortable
table and reports clicks; the review adds its study line and buttons below with
:meth:`FindingsList.add_section`. Keys go to the window's actions (the table takes no focus).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QVBoxLayout, QWidget

from viewer.review.finding_rows import COLUMNS, FindingRow, sorted_rows
from viewer.review.model import FindingStatus
from viewer.scene.presets import STATUS_COLORS
from viewer.widgets.plain_text import plain_label, plain_tip

#: row background per review state (text stays readable on light and dark styles)
STATE_BACKGROUND = {
    FindingStatus.PENDING: QColor(120, 100, 0, 90),
    FindingStatus.ACCEPTED: QColor(20, 140, 40, 90),
    FindingStatus.REJECTED: QColor(170, 30, 30, 90),
}
NUMERIC = {3, 5, 6, 7}
ROW_HEIGHT = 22
#: the table is never shorter than this many rows (the reading room's 1600x1000 screens)
MIN_ROWS_VISIBLE = 8.5
AnyIndex = QModelIndex | QPersistentModelIndex
#: the invalid index Qt passes for "no parent" (never mutated)
NO_PARENT = QModelIndex()


class FindingsModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[FindingRow] = []
        self.sort_column: int | None = None
        self.descending = False

    def set_rows(self, rows: Sequence[FindingRow]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        if self.sort_column is not None:
            self.rows = sorted_rows(self.rows, self.sort_column, self.descending)
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = NO_PARENT) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: AnyIndex = NO_PARENT) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        row, col = self.rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return row.cells()[col]
        if role == Qt.ItemDataRole.BackgroundRole:
            return STATE_BACKGROUND[row.status]
        if role == Qt.ItemDataRole.ForegroundRole and row.below_point:
            return QColor(130, 130, 130)
        if role == Qt.ItemDataRole.ForegroundRole and col == 0:
            return QColor.fromRgbF(*STATUS_COLORS[row.status])
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = row.note or row.status.value
            return plain_tip(f"{tip} (below the operating point)" if row.below_point else tip)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if column < 0:  # no sort column: the order given (AI findings by score, then added ones)
            self.sort_column = None
            return
        self.layoutAboutToBeChanged.emit()
        self.sort_column, self.descending = column, order == Qt.SortOrder.DescendingOrder
        self.rows = sorted_rows(self.rows, column, self.descending)
        self.layoutChanged.emit()


class FindingsList(QWidget):
    finding_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.study_label = plain_label(wrap=True)
        self.study_label.hide()
        self.model = FindingsModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys go to the window's shortcuts
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        self.table.verticalHeader().setMinimumSectionSize(ROW_HEIGHT)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS.index("Change"), QHeaderView.ResizeMode.Stretch)  # takes the slack
        header.setStretchLastSection(False)
        header_h = self.table.horizontalHeader().sizeHint().height()
        self.table.setMinimumHeight(header_h + int(MIN_ROWS_VISIBLE * ROW_HEIGHT) + 2 * self.table.frameWidth())
        self.table.clicked.connect(self._clicked)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(4, 4, 4, 4)
        self._layout.addWidget(self.study_label)
        self._layout.addWidget(self.table, 1)
        self._rows: list[FindingRow] = []
        self.changes: dict[str, str] = {}

    def add_section(self, widget: QWidget) -> None:
        """A widget below the table (the review's buttons and notices)."""
        self._layout.addWidget(widget)

    def set_rows(self, rows: Sequence[FindingRow], selected: str | None = None) -> None:
        self._rows = list(rows)
        self.model.set_rows([self._with_change(r) for r in self._rows])
        self.show_selected(selected)

    def set_changes(self, changes: Mapping[str, str]) -> None:
        """Change versus the prior exam per finding id (from the follow-up comparison)."""
        self.changes = dict(changes)
        self.set_rows(self._rows, self.selected_id())

    def set_study_line(self, text: str) -> None:
        self.study_label.setText(text)
        self.study_label.setVisible(bool(text))

    @property
    def finding_ids(self) -> list[str]:
        """In display (sorted) order."""
        return [r.finding_id for r in self.model.rows]

    def row_count(self) -> int:
        return self.model.rowCount()

    def select_row(self, row: int) -> None:
        """Select as a click does (emits ``finding_clicked``)."""
        self.finding_clicked.emit(self.model.rows[row].finding_id)

    def state_text(self, finding_id: str) -> str:
        return next(r.status_text for r in self.model.rows if r.finding_id == finding_id)

    def selected_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.rows[rows[0].row()].finding_id if rows else None

    def show_selected(self, finding_id: str | None) -> None:
        """Select the row (no signal) and scroll it into view."""
        ids = self.finding_ids
        if finding_id in ids:
            self.table.selectRow(ids.index(finding_id))
            self.table.scrollTo(self.model.index(ids.index(finding_id), 0))
        else:
            self.table.clearSelection()

    def _with_change(self, row: FindingRow) -> FindingRow:
        change = self.changes.get(row.finding_id)
        return dataclasses.replace(row, change=change) if change is not None else row

    def _clicked(self, index: QModelIndex) -> None:
        self.finding_clicked.emit(self.model.rows[index.row()].finding_id)
