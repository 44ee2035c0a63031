"""File ▸ Export…: the study on screen as DICOM SR / SEG / Parametric Map, LUNA16 CSV or JSON.

A thin dialog over :func:`viewer.export.from_store.export_from_store` (the same path as
``nodulelens export``). The export runs in a Python thread; the result comes back to the GUI
thread through a queued Qt signal, and an error is shown as a message, the app keeps running.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog,
                               QFormLayout, QHBoxLayout, QLineEdit, QMessageBox, QPushButton,
                               QWidget)

from viewer.errors import user_facing_errors

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
            path = QFileDialog.getExistingDirectory(self, "Export into folder", str(self.default_dir))
        if path:
            self.out.setText(path)


class ExportController(QObject):
    """Owns the Export action; ``export(fmt, out, ...)`` is the dialog-free entry (tests, scripts)."""

    done = Signal(object)  # (files, warnings) or an exception

    def __init__(self, window: Any, review: Any) -> None:
        super().__init__(window)
        self.window, self.review = window, review
        self.thread: threading.Thread | None = None
        self.action = QAction("Export study…", window)
        self.action.triggered.connect(lambda _c=False: self.ask())
        window.add_action("&File", self.action, "export")
        self.done.connect(self._finished)

    def _series(self) -> str | None:
        session = getattr(self.review, "session", None)
        return None if session is None else session.series_uid

    def ask(self) -> None:
        uid = self._series()
        if uid is None:
            self.window.statusBar().showMessage("Open a study from the store to export it.", 8000)
            return
        dialog = ExportDialog(Path.home(), f"nodulelens-{uid[-12:]}", self.window)
        if dialog.exec():
            self.export(dialog.fmt(), dialog.out.text(), deidentify=dialog.deidentify.isChecked(),
                        reviewed_csv=dialog.reviewed.isChecked())

    def export(self, fmt: str, out: str, *, deidentify: bool = False, reviewed_csv: bool = False) -> bool:
        uid = self._series()
        if uid is None or (self.thread is not None and self.thread.is_alive()):
            return False
        store, actor = self.review.store, self.review.reviewer

        def work() -> None:
            from viewer.export.from_store import export_from_store

            try:
                result, notes = export_from_store(store, uid, fmt, out, deidentify=deidentify,
                                                  reviewed_csv=reviewed_csv, actor=actor)
                self.done.emit(([str(p) for p in result.files], notes))
            except user_facing_errors() as exc:
                self.done.emit(exc)
            except Exception as exc:  # noqa: BLE001 - shown to the user; the app keeps running
                self.done.emit(RuntimeError(f"export failed unexpectedly: {type(exc).__name__}: {exc}"))

        self.window.statusBar().showMessage(f"Exporting {fmt}…")
        self.thread = threading.Thread(target=work, name="nodulelens-export", daemon=True)
        self.thread.start()
        return True

    def _finished(self, outcome: object) -> None:
        if isinstance(outcome, BaseException):
            self.window.statusBar().showMessage("Export failed", 10000)
            box = QMessageBox(QMessageBox.Icon.Warning, "Export failed", str(outcome),
                              QMessageBox.StandardButton.Ok, self.window)
            box.setObjectName("export-error")
            self.last_message = box
            box.open()
            return
        files, notes = outcome  # type: ignore[misc]
        text = f"Exported {len(files)} file(s): {files[0] if files else ''}"
        if notes:
            text += " — " + "; ".join(notes)
        self.window.statusBar().showMessage(text, 20000)


def install_export(window: Any, review: Any) -> ExportController | None:
    """The Export action, when there is a review store to export from."""
    if review is None:
        return None
    controller = ExportController(window, review)
    window.exporter = controller
    return controller
