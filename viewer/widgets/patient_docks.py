"""One call adds the patient panel: ``install_patient_panel(window, review)``.

On each loaded scan the study's stored clinical inputs are shown (or, the first time, age and sex
from the DICOM header) and emphysema is measured off the GUI thread (%LAA-950 on the lung mask).
Every edit recomputes the risks at once; the inputs are saved (append-only, audited) half a
second after the last edit, and at once by :meth:`PatientController.flush`.
"""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QScrollArea

from viewer.review.clinical import PatientInputs, load_inputs, save_inputs
from viewer.review.clinical_risk import FindingRisk, study_risks
from viewer.review.errors import ReviewError
from viewer.widgets.patient_panel import PatientPanel

SAVE_DELAY_MS = 500


def header_text(info: Any) -> str:
    age = getattr(info, "patient_age_years", None)
    sex = getattr(info, "patient_sex", "") or ""
    parts = [f"age {age:.0f} y" if age is not None else "no age",
             f"sex {sex}" if sex in ("M", "F") else "no sex"]
    return "DICOM header: " + ", ".join(parts) + ("" if age is not None and sex in ("M", "F")
                                                  else " (enter what the header lacks)")


class PatientController(QObject):
    measured = Signal(object, object)  # (volume, EmphysemaMeasure or the exception), queued to the GUI

    def __init__(self, window: Any, review: Any) -> None:
        super().__init__(window)
        self.window, self.review = window, review
        self.panel = PatientPanel()
        self.volume: Any = None
        self.series_uid: str | None = None
        self.risks: dict[str, FindingRisk] = {}
        self.measuring = False
        self.dock: Any = None
        self.save_timer = QTimer(self)
        self.save_timer.setSingleShot(True)
        self.save_timer.setInterval(SAVE_DELAY_MS)
        self.save_timer.timeout.connect(self.save)
        self.panel.changed.connect(self.on_changed)
        self.panel.measure_requested.connect(self.measure)
        self.measured.connect(self._on_measured)
        window.volume_loaded.connect(self.on_volume)
        window.finding_selected.connect(self.on_selected)
        window.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.window and event.type() == QEvent.Type.Close:
            self.flush()  # an edit within the last half second is saved, not lost
        return False

    def on_volume(self, volume: Any) -> None:
        self.flush()  # a pending edit belongs to the study shown until now
        session = getattr(self.review, "session", None)
        self.series_uid = session.series_uid if session is not None else None
        self.volume = volume
        stored = None
        if self.series_uid is not None:
            try:
                stored = load_inputs(self.review.store, self.series_uid)
            except ReviewError as exc:
                self.panel.saved.setText(f"Stored inputs could not be read: {exc}")
        inputs = stored.inputs if stored else PatientInputs.from_header(volume.info)
        self.panel.set_inputs(inputs, header_text(volume.info))
        self.panel.select_finding(getattr(self.review, "selected", None))
        self.panel.saved.setText(f"Saved by {stored.actor} at {stored.at:%Y-%m-%d %H:%M} UTC" if stored
                                 else "Not saved yet" if self.series_uid else
                                 "Not stored: this scan is not in the review store")
        self.refresh()
        if inputs.emphysema_laa_percent is None:
            self.measure()

    def on_selected(self, finding_id: str) -> None:
        self.panel.select_finding(finding_id)

    def measure(self) -> None:
        """%LAA-950 of the current scan, off the GUI thread."""
        if self.volume is None or self.measuring:
            return
        self.measuring = True
        self.panel.set_laa(None, "measuring %LAA-950 on the lung mask…")
        volume = self.volume

        def work() -> None:
            from inference.imaging.emphysema import laa_percent
            try:
                result: Any = laa_percent(volume)
            except Exception as exc:  # shown in the panel; the app keeps running
                result = exc
            self.measured.emit(volume, result)
        threading.Thread(target=work, name="nodulelens-emphysema", daemon=True).start()

    def _on_measured(self, volume: Any, result: Any) -> None:
        self.measuring = False
        if volume is not self.volume:
            return  # another scan was opened meanwhile
        if isinstance(result, Exception):
            self.panel.set_laa(None, f"could not be measured: {result}")
            return
        self.panel.set_laa(result.percent, f" ({result.lung_volume_ml:.0f} ml of lung)")
        self.on_changed()

    def on_changed(self) -> None:
        self.refresh()
        if self.series_uid is not None:
            self.save_timer.start()

    def refresh(self) -> None:
        """Recompute every finding's risk from the panel's inputs (live)."""
        session = getattr(self.review, "session", None)
        try:
            inputs = self.panel.inputs()
        except ReviewError as exc:
            self.panel.saved.setText(f"Not saved: {exc.problem}. {exc.fix}")
            return
        point = getattr(self.window, "operating_point", None)
        self.risks = study_risks(session.findings, inputs, point) if session is not None else {}
        self.panel.show_risks(self.risks)

    def risk_of(self, finding_id: str) -> FindingRisk | None:
        """The risk of a finding with its inputs and which were defaults (for the finding card)."""
        return self.risks.get(finding_id)

    def save(self) -> None:
        if self.series_uid is None:
            return
        try:
            stored = save_inputs(self.review.store, self.series_uid, self.panel.inputs(),
                                 self.review.reviewer)
        except ReviewError as exc:
            self.panel.saved.setText(f"NOT SAVED: {exc}")
            return
        self.panel.saved.setText(f"Saved by {stored.actor} at {stored.at:%Y-%m-%d %H:%M:%S} UTC")

    def flush(self) -> None:
        """Save a pending edit now (before another scan is opened, or the window closes)."""
        if self.save_timer.isActive():
            self.save_timer.stop()
            self.save()


def install_patient_panel(window: Any, review: Any) -> PatientController | None:
    """The Patient dock (right side), after :func:`~viewer.controllers.review_setup.install_review`
    (it reads the review's store, session and reviewer); None without a review."""
    if review is None:
        return None
    c = PatientController(window, review)
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setWidget(c.panel)
    c.dock = window.add_tab_dock(scroll, "Patient")
    return c
