"""The findings panel: id, location, diameter, score. Clicking a row asks to jump there."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from inference.domain.finding import Finding
from viewer.review.model import FindingStatus
from viewer.scene.presets import STATUS_COLORS

COLUMNS = ("ID", "Location (x, y, z) mm", "Diameter", "Score")


def location_text(f: Finding) -> str:
    return "({:.1f}, {:.1f}, {:.1f})".format(*f.center)


def diameter_text(f: Finding) -> str:
    d = f.diameter_mm if f.diameter_mm is not None else max(f.box.size)
    return f"{d:.1f} mm" if f.diameter_mm is not None else f"~{d:.1f} mm (box)"


class FindingsTable(QTableWidget):
    """Rows in the order given; the status colours the ID cell."""

    finding_clicked = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self._ids: list[str] = []
        self.itemSelectionChanged.connect(self._selected)
        self._quiet = False

    def set_findings(self, findings: Sequence[Finding], statuses: dict[str, FindingStatus] | None = None) -> None:
        self._quiet = True
        self.setRowCount(0)
        self._ids = [f.finding_id for f in findings]
        for row, f in enumerate(findings):
            self.insertRow(row)
            status = (statuses or {}).get(f.finding_id, FindingStatus.PENDING)
            cells = (f.finding_id, location_text(f), diameter_text(f), f"{f.score:.2f}")
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 0:
                    item.setForeground(QColor.fromRgbF(*STATUS_COLORS[status]))
                    item.setToolTip(status.value)
                if col >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(row, col, item)
        self._quiet = False

    @property
    def finding_ids(self) -> list[str]:
        return list(self._ids)

    def show_selected(self, finding_id: str | None) -> None:
        """Select the row without emitting ``finding_clicked``."""
        self._quiet = True
        if finding_id in self._ids:
            self.selectRow(self._ids.index(finding_id))
        else:
            self.clearSelection()
        self._quiet = False

    def _selected(self) -> None:
        rows = self.selectionModel().selectedRows()
        if rows and not self._quiet:
            self.finding_clicked.emit(self._ids[rows[0].row()])
