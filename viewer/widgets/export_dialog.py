"""The File ▸ Export… dialog: format, destination, de-identification. The export itself is run by
:class:`viewer.controllers.export.ExportController`."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog,
                               QFormLayout, QHBoxLayout, QLineEdit, QPushButton,
                               QWidget)

FORMATS = (("sr", "DICOM SR (TID 1500) with its SEG and saliency maps"),
           ("seg", "DICOM SEG of the accepted nodules"),
           ("pmap", "Saliency maps (DICOM Parametric Map)"),
           ("csv", "LUNA16 CSV"),
           ("json", "JSON (everything, versioned schema)"))
#: formats that write a folder; the others write one file with this suffix
SUFFIX = {"seg": ".dcm", "csv": ".csv", "json": ".json"}


class ExportDialog(QDialog):
    def __init__(self, default_dir: Path, stem: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export study")
        self.default_dir, self.stem = default_dir, stem
        self.format = QComboBox()
        for key, text in FORMATS:
            self.format.addItem(text, key)
        self.reviewed = QCheckBox("CSV: reviewed nodules (annotations layout) instead of AI candidates")
        self.deidentify = QCheckBox("De-identify (DICOM PS3.15 basic profile)")
        self.replace = QCheckBox("Replace an existing export at this place")
        self.replace.setToolTip("Without it an existing file, or a folder holding files, is never overwritten")
        self.out = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.out)
        row.addWidget(browse)
        form = QFormLayout(self)
        form.addRow("Format", self.format)
        form.addRow("", self.reviewed)
        form.addRow("", self.deidentify)
        form.addRow("", self.replace)
        form.addRow("Write to", row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.format.currentIndexChanged.connect(self._format_changed)
        self._format_changed()

    def fmt(self) -> str:
        return str(self.format.currentData())

    def _format_changed(self) -> None:
        fmt = self.fmt()
        self.reviewed.setEnabled(fmt == "csv")
        self.out.setText(str(self.default_dir / f"{self.stem}-{fmt}{SUFFIX.get(fmt, '')}"))

    def _browse(self) -> None:
        if self.fmt() in SUFFIX:
            path, _ = QFileDialog.getSaveFileName(self, "Export to", self.out.text())
        else:
            where = QFileDialog.getExistingDirectory(self, "Export into folder", str(self.default_dir))
            # the export makes its own folder there (an existing folder with files is refused)
            path = str(Path(where) / f"{self.stem}-{self.fmt()}") if where else ""
        if path:
            self.out.setText(path)
