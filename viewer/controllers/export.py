"""File ▸ Export…: the study on screen as DICOM SR / SEG / Parametric Map, LUNA16 CSV or JSON.

A thin controller over :func:`viewer.export.from_store.export_from_store` (the same path as
``nodulelens export``), with the dialog of :mod:`viewer.widgets.export_dialog`. The export runs in a
Python thread; the result comes back to the GUI thread through a queued Qt signal, and an error is
shown as a message, the app keeps running.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox

from viewer.widgets.plain_text import plain_message_box

from viewer.errors import user_facing_errors
from viewer.widgets.export_dialog import ExportDialog

if TYPE_CHECKING:
    from viewer.controllers.review_controller import ReviewController
    from viewer.main_window import MainWindow


class ExportController(QObject):
    """Owns the Export action; ``export(fmt, out, ...)`` is the dialog-free entry (tests, scripts)."""

    done = Signal(object)  # (files, warnings) or an exception

    def __init__(self, window: MainWindow, review: ReviewController) -> None:
        super().__init__(window)
        self.window, self.review = window, review
        self.worker: threading.Thread | None = None
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
                        reviewed_csv=dialog.reviewed.isChecked(), force=dialog.replace.isChecked())

    def export(self, fmt: str, out: str, *, deidentify: bool = False, reviewed_csv: bool = False,
               force: bool = False) -> bool:
        uid = self._series()
        if uid is None or (self.worker is not None and self.worker.is_alive()):
            return False
        store, actor = self.review.store, self.review.reviewer

        def work() -> None:
            from viewer.export.from_store import export_from_store

            try:
                result, notes = export_from_store(store, uid, fmt, out, deidentify=deidentify,
                                                  reviewed_csv=reviewed_csv, actor=actor, force=force)
                self.done.emit(([str(p) for p in result.files], notes))
            except user_facing_errors() as exc:
                self.done.emit(exc)
            except Exception as exc:  # shown to the user; the app keeps running
                self.done.emit(RuntimeError(f"export failed unexpectedly: {type(exc).__name__}: {exc}"))

        self.window.statusBar().showMessage(f"Exporting {fmt}…")
        self.worker = threading.Thread(target=work, name="nodulelens-export", daemon=True)
        self.worker.start()
        return True

    def _finished(self, outcome: object) -> None:
        if isinstance(outcome, BaseException):
            self.window.statusBar().showMessage("Export failed", 10000)
            box = plain_message_box(QMessageBox.Icon.Warning, "Export failed", str(outcome), self.window)
            box.setObjectName("export-error")
            self.last_message = box
            box.open()
            return
        if not isinstance(outcome, tuple):
            raise TypeError(f"the export thread sent {type(outcome).__name__}, not (files, notes)")
        files, notes = outcome
        text = f"Exported {len(files)} file(s): {files[0] if files else ''}"
        if notes:
            text += " — " + "; ".join(notes)
        self.window.statusBar().showMessage(text, 20000)


def install_export(window: MainWindow, review: ReviewController | None) -> ExportController | None:
    """The Export action, when there is a review store to export from."""
    if review is None:
        return None
    controller = ExportController(window, review)
    window.exporter = controller
    return controller
