"""The operating-point dock: a slider over the model's score with, beside it, the sensitivity and
false positives per scan the model card expects there (held-out data, 95 % CIs); findings below the
point drawn dimmed or hidden as the reader chooses; the point stored with the study and audited.

Thin: figures come from :mod:`viewer.review.operating_point` (Qt-free), drawing from
``MainWindow.set_operating_point``. A change is stored once the slider has rested for
``COMMIT_MS`` (one audit row per decision, not one per pixel of travel).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QPushButton, QSlider, QWidget

from inference.training.operating_table import DEFAULT_FLOOR, OperatingTable, OperatingTableError
from viewer.widgets.plain_text import plain_label
from viewer.review.operating_point import BelowPoint, card_table, operating_point, readout_lines, \
    record_operating_point

COMMIT_MS = 700
STEPS = 100  # slider units per 1.0 of score


class OperatingPointPanel(QWidget):
    point_changed = Signal(float)  # while the slider moves
    point_committed = Signal(float)  # after it rests
    below_changed = Signal(object)  # BelowPoint

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table: OperatingTable | None = None
        self.card_point = 0.5
        form = QFormLayout(self)
        row = QHBoxLayout()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(round(DEFAULT_FLOOR * STEPS), STEPS - 1)
        self.slider.setToolTip("Score threshold: findings scoring at least this are presented")
        self.value = plain_label()
        self.reset = QPushButton("Card's point")
        row.addWidget(self.slider, 1)
        row.addWidget(self.value)
        row.addWidget(self.reset)
        form.addRow("Score ≥", row)
        self.readout = plain_label()
        self.readout.setWordWrap(True)
        self.readout.setMinimumHeight(self.readout.fontMetrics().lineSpacing() * 7)
        form.addRow("Expected", self.readout)
        self.below = QComboBox()
        for mode in BelowPoint:
            self.below.addItem(f"below the point: {mode.value}", mode)
        form.addRow("Findings", self.below)
        self.counts = plain_label()
        form.addRow("", self.counts)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(COMMIT_MS)
        self._timer.timeout.connect(lambda: self.point_committed.emit(self.point()))
        self.slider.valueChanged.connect(self._moved)
        self.reset.clicked.connect(lambda: self.set_point(self.card_point, commit=True))
        self.below.currentIndexChanged.connect(lambda _i: self.below_changed.emit(self.below.currentData()))

    def point(self) -> float:
        return self.slider.value() / STEPS

    def set_table(self, table: OperatingTable | None, card_point: float, floor: float | None = None) -> None:
        self.table, self.card_point = table, card_point
        low = min(card_point, floor if floor is not None else (table.floor if table else DEFAULT_FLOOR))
        self.slider.blockSignals(True)
        self.slider.setRange(round(low * STEPS), STEPS - 1)
        self.slider.blockSignals(False)
        self.reset.setText(f"Card's point ({card_point:g})")

    def set_point(self, threshold: float, commit: bool = False) -> None:
        self.slider.setValue(round(threshold * STEPS))
        self._show(self.point())
        if commit:
            self._timer.stop()
            self.point_committed.emit(self.point())

    def show_counts(self, above: int, below: int) -> None:
        self.counts.setText(f"{above} at or above the point, {below} below it (kept down to "
                            f"{self.slider.minimum() / STEPS:g})")

    def _moved(self, _value: int) -> None:
        self._show(self.point())
        self.point_changed.emit(self.point())
        self._timer.start()

    def _show(self, threshold: float) -> None:
        card = " (the card's point)" if abs(threshold - self.card_point) < 1e-9 else ""
        self.value.setText(f"{threshold:.2f}{card}")
        self.readout.setText("\n".join(line.replace("): ", "):\n    ", 1)
                                       for line in readout_lines(self.table, threshold)))


class OperatingPointControl:
    """Connects the panel to the window (what is drawn) and the store (what is kept)."""

    def __init__(self, window: Any, review: Any = None) -> None:
        self.window, self.review = window, review
        self.panel = OperatingPointPanel()
        self.series_uid: str | None = None
        self.in_store = False
        self.problems: list[str] = []
        self.panel.point_changed.connect(self._apply)
        self.panel.point_committed.connect(self._store)
        self.panel.below_changed.connect(lambda _m: self._apply(self.panel.point()))
        window.findings_shown.connect(self._on_findings)
        window.volume_loaded.connect(lambda _v: self._load_study())

    @property
    def store(self) -> Any:
        return getattr(self.review, "store", None)

    def _load_study(self) -> None:
        volume = self.window.volume
        self.series_uid = volume.info.series_instance_uid if volume is not None else None
        model, stored = None, None
        if self.store is not None and self.series_uid:
            rows = self.store.query("SELECT model_id FROM series WHERE series_uid=?", (self.series_uid,))
            model = rows[0]["model_id"] if rows else None
            stored = operating_point(self.store, self.series_uid) if rows else None
        self.in_store = stored is not None
        try:
            table = card_table(model)
        except OperatingTableError as exc:
            self.problems.append(str(exc))
            table = None
        from inference.detection.registry import ModelError, load_manifest

        try:
            card_point = load_manifest(model).operating_threshold if model else \
                load_manifest(_default()).operating_threshold
        except ModelError:
            card_point = stored if stored is not None else 0.5
        self.panel.set_table(table, card_point, None if stored is None else min(stored, table.floor if table
                                                                                 else DEFAULT_FLOOR))
        self.panel.set_point(stored if stored is not None else card_point)
        self._apply(self.panel.point())

    def _on_findings(self) -> None:
        volume = self.window.volume
        # a new study, or this one just screened into the store (the detection finished after loading)
        if volume is not None and (volume.info.series_instance_uid != self.series_uid or not self.in_store):
            self._load_study()
        ai = [f for f in self.window.findings if f.source.value == "ai"]
        below = sum(self.window.below_operating_point(f) for f in ai)
        self.panel.show_counts(len(ai) - below, below)

    def _apply(self, threshold: float) -> None:
        if self.window.operating_point != threshold or self.window.below_point != self.panel.below.currentData():
            self.window.set_operating_point(threshold, self.panel.below.currentData())

    def _store(self, threshold: float) -> None:
        if self.store is None or not self.series_uid or not self.in_store:
            return
        actor = getattr(getattr(self.review, "settings", None), "reviewer", None) or "unknown reviewer"
        try:
            record_operating_point(self.store, self.series_uid, threshold, actor, self.panel.table)
        except Exception as exc:  # shown, never fatal: the point still applies on screen
            self.problems.append(str(exc))
            self.window.statusBar().showMessage(f"The operating point was not stored: {exc}", 10000)


def _default() -> str:
    from inference.detection.registry import default_model_id

    return default_model_id()


def install_operating_point(window: Any, review: Any = None) -> OperatingPointControl:
    """For the app: the dock under the display controls."""
    control = OperatingPointControl(window, review)
    window.add_tab_dock(control.panel, "Operating point")
    return control
