"""The worklist: one row per stored series, sortable and filterable; Enter or double-click opens it."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import (QAbstractTableModel, QModelIndex, QPersistentModelIndex,
                            QSortFilterProxyModel, Qt, Signal)
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QHeaderView,
                               QLineEdit, QTableView, QVBoxLayout, QWidget)

from viewer.review.model import StudyStatus
from viewer.review.read_models import WorklistRow
from viewer.widgets.plain_text import plain_tip

NO_PARENT = QModelIndex()
COLUMNS = ("Flag", "Patient", "Lung-RADS", "Risk", "Findings", "State", "Reviewer", "Series")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1


def _cells(r: WorklistRow) -> tuple[tuple[str, object], ...]:
    """(display text, sort key) per column."""
    flag = "⚑" if r.flagged else ("failed" if r.screen_state == "failed" else "")
    risk = "—" if r.highest_risk is None else f"{100 * r.highest_risk:.1f} %"
    return ((flag, (r.flagged, r.screen_state != "failed")), (r.patient_id, r.patient_id),
            (r.highest_lung_rads.value if r.highest_lung_rads else "—",
             r.highest_lung_rads.rank if r.highest_lung_rads else -1),
            (risk, r.highest_risk if r.highest_risk is not None else -1.0),
            (str(r.n_findings), r.n_findings), (r.status.value, r.status.value),
            (r.reviewer, r.reviewer), (r.description or r.series_uid[-12:], r.series_uid))


class WorklistModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[WorklistRow] = []

    def set_rows(self, rows: Sequence[WorklistRow]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent=NO_PARENT) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=NO_PARENT) -> int:
        return len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role=Qt.ItemDataRole.DisplayRole):
        r = self.rows[index.row()]
        text, key = _cells(r)[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return text
        if role == SORT_ROLE:
            return key if not isinstance(key, tuple) else int(key[0]) * 2 + int(key[1])
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain_tip(r.tooltip())  # the failure, or the path and the warnings stored with the screening
        return None


class WorklistFilter(QSortFilterProxyModel):
    def __init__(self) -> None:
        super().__init__()
        self.text = ""
        self.flagged_only = False
        self.state: StudyStatus | None = None
        self.setSortRole(SORT_ROLE)

    def filterAcceptsRow(self, row: int, parent) -> bool:
        source = self.sourceModel()
        if not isinstance(source, WorklistModel):  # nothing to filter before the panel sets its model
            return True
        r = source.rows[row]
        if self.flagged_only and not r.flagged:
            return False
        if self.state is not None and r.status is not self.state:
            return False
        hay = " ".join((r.patient_id, r.series_uid, r.study_uid, r.description, r.reviewer)).lower()
        return self.text.lower() in hay


class WorklistPanel(QWidget):
    open_requested = Signal(object)  # WorklistRow

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = WorklistModel()
        self.proxy = WorklistFilter()
        self.proxy.setSourceModel(self.model)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.proxy.sort(-1)  # the store's order (flagged, most suspicious first) until a header click
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.view.activated.connect(lambda idx: self.open_requested.emit(self.row_at(idx.row())))
        self.search = QLineEdit()
        self.search.setPlaceholderText("filter: patient, UID, reviewer")
        self.search.textChanged.connect(self._filter)
        self.flagged = QCheckBox("flagged only")
        self.flagged.toggled.connect(self._filter)
        self.state = QComboBox()
        self.state.addItem("any state", None)
        for s in StudyStatus:
            self.state.addItem(s.value, s)
        self.state.currentIndexChanged.connect(self._filter)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.flagged)
        top.addWidget(self.state)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.view, 1)

    def set_rows(self, rows: Sequence[WorklistRow], current: str | None = None) -> None:
        """New rows; the selection stays on ``current`` (or on the row that was selected)."""
        picked = self.view.selectionModel().selectedRows()
        keep = current or (self.row_at(picked[0].row()).series_uid if picked else None)
        self.model.set_rows(rows)
        if keep is not None:
            self.select(keep)

    def _filter(self, *_: object) -> None:
        begin = getattr(self.proxy, "beginFilterChange", None)  # Qt >= 6.9
        if begin is not None:
            begin()
        self.proxy.text = self.search.text()
        self.proxy.flagged_only = self.flagged.isChecked()
        self.proxy.state = self.state.currentData()
        if begin is not None:
            self.proxy.endFilterChange()
        else:
            self.proxy.invalidateFilter()

    def visible_rows(self) -> list[WorklistRow]:
        return [self.row_at(i) for i in range(self.proxy.rowCount())]

    def row_at(self, proxy_row: int) -> WorklistRow:
        return self.model.rows[self.proxy.mapToSource(self.proxy.index(proxy_row, 0)).row()]

    def select(self, series_uid: str) -> None:
        for i, r in enumerate(self.visible_rows()):
            if r.series_uid == series_uid:
                self.view.selectRow(i)
                return

    def next_after(self, series_uid: str | None) -> WorklistRow | None:
        """The next visible study after ``series_uid`` that is not signed off (wrapping)."""
        rows = self.visible_rows()
        ids = [r.series_uid for r in rows]
        start = ids.index(series_uid) if series_uid in ids else -1
        for k in range(1, len(rows) + 1):
            r = rows[(start + k) % len(rows)]
            if r.status is not StudyStatus.SIGNED_OFF and r.series_uid != series_uid:
                return r
        return None
