"""The series chooser: several series in one folder, the likely axial CT preselected."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from viewer.widgets.plain_text import plain_label


class SeriesChooser(QDialog):
    """Lists candidates (description, slices, thickness, orientation); ``chosen()`` after exec."""

    def __init__(self, folder: str, candidates: Sequence, preselected_uid: str | None, reason: str = "",
                 parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose a series")
        self.candidates = list(candidates)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label(f"{folder} holds {len(self.candidates)} series. Which one to open?"))
        self.table = QTableWidget(len(self.candidates), 5)
        self.table.setHorizontalHeaderLabels(["Description", "Slices", "Thickness", "Orientation", "Modality"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        for row, c in enumerate(self.candidates):
            thick = f"{c.thickness_mm:g} mm" if getattr(c, "thickness_mm", None) else "?"
            orient = getattr(getattr(c, "orientation", None), "value", "?")
            for col, text in enumerate((c.description or "(no description)", str(c.slice_count), thick,
                                        orient, getattr(c, "modality", ""))):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        layout.addWidget(self.table)
        if reason:
            layout.addWidget(plain_label(f"Suggested: {reason}", wrap=True))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.table.doubleClicked.connect(self.accept)
        layout.addWidget(buttons)
        uids = [c.uid for c in self.candidates]
        self.table.selectRow(uids.index(preselected_uid) if preselected_uid in uids else 0)

    def chosen(self):
        rows = self.table.selectionModel().selectedRows()
        return self.candidates[rows[0].row()] if rows else None
