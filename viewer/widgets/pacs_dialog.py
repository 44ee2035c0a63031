"""File ▸ Query PACS…: search a node and pull studies (with priors) into the archive and the store.

Thin: the search and the pull are :func:`viewer.pacs.retrieve.search` / :func:`~viewer.pacs.retrieve.pull`
run in a Python thread; results, progress and errors come back through queued Qt signals. Header
text (names, descriptions) is shown as plain text only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QFormLayout, QHBoxLayout, QLineEdit, QProgressBar,
                               QPushButton, QSpinBox, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from viewer.errors import user_facing_errors
from viewer.widgets.plain_text import plain_label

COLUMNS = ("Date", "Patient ID", "Name", "Modalities", "Description", "Instances")


class _Bridge(QObject):
    found = Signal(object)  # list[StudyHit] or an exception
    progress = Signal(float, str)
    pulled = Signal(object)  # PullResult or an exception


def _run(fn: Callable[[], object], emit: Callable[[object], None]) -> threading.Thread:
    def work() -> None:
        try:
            emit(fn())
        except user_facing_errors() as exc:
            emit(exc)
        except Exception as exc:  # shown to the user; the app keeps running
            emit(exc)
    t = threading.Thread(target=work, name="pacs-dialog", daemon=True)
    t.start()
    return t


class QueryPacsDialog(QDialog):
    """``search()`` and ``pull_selected()`` are the dialog-free entries (tests)."""

    study_pulled = Signal(object)  # PullResult

    def __init__(self, config: Any, store: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Query PACS")
        self.resize(900, 520)
        self.config, self.store = config, store
        self.bridge = _Bridge(self)
        self.worker: threading.Thread | None = None
        self._cancel = threading.Event()
        self.hits: list[Any] = []
        self.node = QComboBox()
        for n in config.nodes:
            self.node.addItem(n.describe(), n.name)
        self.patient, self.name, self.date, self.modality = QLineEdit(), QLineEdit(), QLineEdit(), QLineEdit("CT")
        self.name.setPlaceholderText("DOE^*")
        self.date.setPlaceholderText("20240101-  or  20200101-20231231")
        self.priors = QSpinBox()
        self.priors.setRange(0, 30)
        self.priors.setValue(config.local.priors_years)
        self.priors.setSuffix(" years of priors")
        self.search_button = QPushButton("Search")
        self.pull_button = QPushButton("Pull")
        self.cancel_button = QPushButton("Cancel")
        self.results = QTreeWidget()
        self.results.setHeaderLabels(list(COLUMNS))
        self.results.setColumnWidth(0, 120)
        self.results.setColumnWidth(1, 150)
        self.results.setColumnWidth(2, 160)
        self.results.setColumnWidth(3, 90)
        self.results.setColumnWidth(4, 250)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.message = plain_label()
        self.message.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Node", self.node)
        form.addRow("Patient ID", self.patient)
        form.addRow("Patient name", self.name)
        form.addRow("Study date", self.date)
        form.addRow("Modality", self.modality)
        buttons = QHBoxLayout()
        for w in (self.search_button, self.priors, self.pull_button, self.cancel_button):
            buttons.addWidget(w)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.bar)
        layout.addWidget(self.message)
        self.search_button.clicked.connect(lambda _c=False: self.search())
        self.pull_button.clicked.connect(lambda _c=False: self.pull_selected())
        self.cancel_button.clicked.connect(self.cancel)
        self.bridge.found.connect(self._found)
        self.bridge.progress.connect(self._progress)
        self.bridge.pulled.connect(self._pulled)
        self._busy(False)

    # -- actions -----------------------------------------------------------------------------------
    def busy(self) -> bool:
        return self.worker is not None and self.worker.is_alive()

    def search(self) -> bool:
        from viewer.pacs.query import StudyQuery
        from viewer.pacs.retrieve import search

        if self.busy() or self.node.currentData() is None:
            return False
        try:
            query = StudyQuery(patient_id=self.patient.text().strip(), patient_name=self.name.text().strip(),
                               study_date=self.date.text().strip(), modality=self.modality.text().strip())
            node = self.config.node(self.node.currentData())
        except user_facing_errors() as exc:
            self.message.setText(str(exc))
            return False
        self._busy(True, f"Searching {node.name}…")
        self.worker = _run(lambda: search(self.config, node, query), self.bridge.found.emit)
        return True

    def pull_selected(self) -> bool:
        from viewer.pacs.retrieve import pull

        item = self.results.currentItem()
        if self.busy() or item is None:
            if item is None:
                self.message.setText("Select a study to pull.")
            return False
        while (up := item.parent()) is not None:
            item = up
        hit = self.hits[self.results.indexOfTopLevelItem(item)]
        node = self.config.node(self.node.currentData())
        years = self.priors.value()
        self._cancel.clear()
        self._busy(True, f"Pulling {hit.study_uid} from {node.name}…")
        self.worker = _run(lambda: pull(self.config, node, hit.study_uid, self.store, priors_years=years,
                                        progress=self.bridge.progress.emit, cancelled=self._cancel.is_set),
                           self.bridge.pulled.emit)
        return True

    def cancel(self) -> None:
        if self.busy():
            self._cancel.set()
            self.message.setText("Cancelling…")
        else:
            self.reject()

    # -- results (GUI thread) ---------------------------------------------------------------------
    def _busy(self, on: bool, text: str = "") -> None:
        self.search_button.setEnabled(not on)
        self.pull_button.setEnabled(not on)
        self.cancel_button.setText("Cancel" if on else "Close")
        if text:
            self.message.setText(text)
        if on:
            self.bar.setValue(0)

    def _found(self, result: object) -> None:
        self._busy(False)
        if isinstance(result, Exception):
            self.message.setText(str(result))
            return
        from viewer.pacs.query import StudyHit

        self.hits = [h for h in result if isinstance(h, StudyHit)] if isinstance(result, list) else []
        self.results.clear()
        for h in self.hits:
            top = QTreeWidgetItem([h.study_date, h.patient_id, h.patient_name, h.modalities, h.description,
                                   str(h.n_instances)])
            for s in h.series:
                top.addChild(QTreeWidgetItem(["", "", f"series {s.number}", s.modality, s.description,
                                              str(s.n_instances)]))
            self.results.addTopLevelItem(top)
            top.setExpanded(True)
        first = self.results.topLevelItem(0)
        if self.hits and first is not None:
            self.results.setCurrentItem(first)
        self.message.setText(f"{len(self.hits)} stud{'y' if len(self.hits) == 1 else 'ies'} found")

    def _progress(self, fraction: float, text: str) -> None:
        self.bar.setValue(int(1000 * fraction))
        self.message.setText(text)

    def _pulled(self, result: object) -> None:
        self._busy(False)
        from viewer.pacs.retrieve import PullResult

        if not isinstance(result, PullResult):  # the pull's exception
            self.message.setText(str(result))
            return
        cur = result.current
        priors = result.priors
        self.bar.setValue(1000)
        self.message.setText(f"Pulled {cur.n_instances} instance(s) of {cur.study.study_date} "
                             f"and {len(priors)} prior stud{'y' if len(priors) == 1 else 'ies'}; "
                             "on the worklist now.")
        self.study_pulled.emit(result)
