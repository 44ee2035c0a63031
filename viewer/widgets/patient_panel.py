"""The patient panel: the clinical inputs of the Brock risk and each finding's risk, live.

Thin: it turns its fields into a :class:`~viewer.review.clinical.PatientInputs` (and back) and
shows :class:`~viewer.review.clinical_risk.FindingRisk` rows; storing, measuring and the risk
maths live in :mod:`viewer.widgets.patient_docks`, :mod:`viewer.review.clinical` and
:mod:`inference.nodules.risk_models`. Header text is shown as plain text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QHeaderView,
    QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from viewer.review.clinical import InputSource, PatientInputs, Sex, SmokingStatus
from viewer.review.clinical_risk import INPUT_LABELS, FindingRisk
from viewer.widgets.plain_text import PlainLabel, plain_label, plain_tip

UNKNOWN = "not given"
YES_NO = ((UNKNOWN, None), ("no", False), ("yes", True))
EMPHYSEMA_CHOICES = (("use the measurement", None), ("absent (reader)", False), ("present (reader)", True))
SPICULATION_CHOICES = (("not assessed", None), ("no", False), ("yes", True))
RISK_COLUMNS = ("ID", "Risk", "Model", "Defaults used")
SOURCE_ROWS = {"age_years": "Age", "sex": "Sex", "emphysema": "Emphysema used"}
NO_SUGGESTION = "Model suggestion: none (no validated spiculation measure): the reader's call."
NOT_BROCK = ("Smoking status, pack-years and cancer history are stored and exported but are not "
             "inputs of the Brock model (built on screening participants, all heavy smokers).")


def _combo(choices: tuple[tuple[str, Any], ...]) -> QComboBox:
    box = QComboBox()
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(9)
    for text, value in choices:
        box.addItem(text, value)
    return box


def _set_combo(box: QComboBox, value: Any) -> None:
    for i in range(box.count()):
        if box.itemData(i) == value:
            box.setCurrentIndex(i)
            return


def _spin(lo: float, hi: float, decimals: int, suffix: str) -> QDoubleSpinBox:
    s = QDoubleSpinBox()
    s.setRange(lo, hi)
    s.setDecimals(decimals)
    s.setSuffix(suffix)
    s.setSpecialValueText(UNKNOWN)  # the minimum means "not given"
    s.setKeyboardTracking(False)
    return s


def _plain(text: str = "") -> PlainLabel:
    return plain_label(text, wrap=True)


class PatientPanel(QWidget):
    changed = Signal()  # the reader changed an input
    measure_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header = _plain("No study open")
        self.age = _spin(0.0, 129.0, 0, " y")
        self.sex = _combo(((UNKNOWN, None), ("male", Sex.MALE), ("female", Sex.FEMALE)))
        self.smoking = _combo(((UNKNOWN, None), *((s.value, s) for s in SmokingStatus)))
        self.pack_years = _spin(-1.0, 300.0, 1, " pack-years")
        self.family = _combo(YES_NO)
        self.cancer = _combo(YES_NO)
        self.emphysema_measured = _plain("not measured")
        self.emphysema_measured.setWordWrap(False)
        self.measure = QPushButton("Measure")
        self.measure.setToolTip("Measure %LAA-950: the share of lung voxels below -950 HU on the lung mask")
        self.emphysema = _combo(EMPHYSEMA_CHOICES)
        self.spiculation = _combo(SPICULATION_CHOICES)
        self.spiculation_for = _plain("Spiculation (no finding selected)")
        #: row labels that also say where the value comes from
        self.sources = {"age_years": _plain("Age"), "sex": _plain("Sex"), "emphysema": _plain("Emphysema used")}
        self.sources["emphysema"].setWordWrap(False)
        self.suggestion = _plain(NO_SUGGESTION)
        self.note = _plain(NOT_BROCK)
        self.risks = QTableWidget(0, len(RISK_COLUMNS))
        self.risks.setHorizontalHeaderLabels(RISK_COLUMNS)
        self.risks.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.risks.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.risks.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.risks.verticalHeader().setVisible(False)
        self.risks.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.risks.horizontalHeader().setStretchLastSection(True)
        self.model_label = _plain("")
        self.saved = _plain("")
        self._layout()
        self._loading = False
        self._header_age: float | None = None
        self._header_sex: Sex | None = None
        self._laa: float | None = None
        self._spiculation: dict[str, bool] = {}
        self._finding: str | None = None
        for box in (self.sex, self.smoking, self.family, self.cancer, self.emphysema):
            box.currentIndexChanged.connect(self._edited)
        for spin in (self.age, self.pack_years):
            spin.valueChanged.connect(self._edited)
        self.spiculation.currentIndexChanged.connect(self._spiculation_edited)
        self.measure.clicked.connect(self.measure_requested)

    def _layout(self) -> None:
        form = QFormLayout()
        form.addRow(self.header)
        form.addRow(self.sources["age_years"], self.age)
        form.addRow(self.sources["sex"], self.sex)
        form.addRow("Smoking", self.smoking)
        form.addRow("Pack-years", self.pack_years)
        form.addRow("Family history\n(lung cancer)", self.family)
        form.addRow("Personal cancer history", self.cancer)
        form.addRow("Emphysema, %LAA-950", self.emphysema_measured)
        form.addRow(self.sources["emphysema"], self._with(self.emphysema, self.measure))
        form.addRow(self.spiculation_for, self.spiculation)
        form.addRow(self.suggestion)
        box = QVBoxLayout(self)
        box.addLayout(form)
        box.addWidget(self.note)
        box.addWidget(self.model_label)
        box.addWidget(self.risks, 1)
        box.addWidget(self.saved)

    @staticmethod
    def _with(*widgets: QWidget) -> QWidget:
        w = QWidget()
        row = QHBoxLayout(w)
        row.setContentsMargins(0, 0, 0, 0)
        for k, widget in enumerate(widgets):
            row.addWidget(widget, 1 if k == 0 else 0)
        return w

    # -- inputs <-> fields -------------------------------------------------------------------
    def set_inputs(self, p: PatientInputs, header_text: str) -> None:
        self._loading = True
        try:
            self.header.setText(header_text)
            self._header_age, self._header_sex = p.header_age_years, p.header_sex
            self.age.setValue(p.age_years if p.age_years is not None else self.age.minimum())
            _set_combo(self.sex, p.sex)
            _set_combo(self.smoking, p.smoking)
            self.pack_years.setValue(p.pack_years if p.pack_years is not None else self.pack_years.minimum())
            _set_combo(self.family, p.family_history)
            _set_combo(self.cancer, p.cancer_history)
            _set_combo(self.emphysema, p.emphysema_reader)
            self._spiculation = dict(p.spiculation)
            self.set_laa(p.emphysema_laa_percent)
            self.select_finding(self._finding)
        finally:
            self._loading = False
        self._show_sources()

    def inputs(self) -> PatientInputs:
        age = None if self.age.value() == self.age.minimum() else float(self.age.value())
        packs = None if self.pack_years.value() == self.pack_years.minimum() else float(self.pack_years.value())
        return PatientInputs(
            age_years=age, sex=self.sex.currentData(), smoking=self.smoking.currentData(),
            pack_years=packs, family_history=self.family.currentData(),
            cancer_history=self.cancer.currentData(), emphysema_laa_percent=self._laa,
            emphysema_reader=self.emphysema.currentData(), spiculation=tuple(self._spiculation.items()),
            header_age_years=self._header_age, header_sex=self._header_sex)

    def set_laa(self, percent: float | None, detail: str = "") -> None:
        self._laa = percent
        if percent is None:
            self.emphysema_measured.setText(detail or "not measured")
            self.emphysema_measured.setToolTip(plain_tip(detail))
        else:
            verdict = "present" if percent >= 5.0 else "absent"
            self.emphysema_measured.setText(f"{percent:.1f} % → {verdict} (≥ 5 %: present)")
            self.emphysema_measured.setToolTip(plain_tip("Share of lung voxels below -950 HU on the lung mask"
                                                         + detail))

    def select_finding(self, finding_id: str | None) -> None:
        self._finding = finding_id
        was, self._loading = self._loading, True
        try:
            self.spiculation.setEnabled(finding_id is not None)
            self.spiculation_for.setText(f"Spiculation of {finding_id}" if finding_id
                                         else "Spiculation (no finding selected)")
            _set_combo(self.spiculation, self._spiculation.get(finding_id) if finding_id else None)
        finally:
            self._loading = was

    def _edited(self) -> None:
        if not self._loading:
            self._show_sources()
            self.changed.emit()

    def _spiculation_edited(self) -> None:
        if self._loading or self._finding is None:
            return
        value = self.spiculation.currentData()
        if value is None:
            self._spiculation.pop(self._finding, None)
        else:
            self._spiculation[self._finding] = bool(value)
        self.changed.emit()

    def _show_sources(self) -> None:
        try:
            src = self.inputs().sources()
        except Exception:  # an inconsistent entry (e.g. never-smoker with pack-years): shown on save
            return
        for name, label in self.sources.items():
            label.setText(f"{SOURCE_ROWS[name]}\n({src[name].value})")

    # -- risks -------------------------------------------------------------------------------
    def show_risks(self, risks: Mapping[str, FindingRisk]) -> None:
        self.risks.setRowCount(len(risks))
        models = sorted({r.estimate.model.label for r in risks.values()})
        self.model_label.setText("Model used: " + "; ".join(models) if models else
                                 "No measured finding: no risk to show")
        for row, (fid, r) in enumerate(risks.items()):
            defaults = ", ".join(INPUT_LABELS[d] for d in r.defaults_used) or "none"
            cells = (fid, f"{100 * r.probability:.1f} %", r.estimate.model.value, defaults)
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 3 and r.defaults_used:
                    item.setToolTip(plain_tip("These inputs took the model's documented default: "
                                              + ", ".join(f"{INPUT_LABELS[d]} ({InputSource.DEFAULT.value})"
                                                          for d in r.defaults_used)))
                self.risks.setItem(row, col, item)
