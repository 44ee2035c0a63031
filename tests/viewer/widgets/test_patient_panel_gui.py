"""The patient panel on the real LIDC-IDRI-0001 scan (real X server, real store): typing age 70
and pack-years changes the risk live, and the store holds the inputs (audited)."""

from __future__ import annotations
from inference.domain.nodule import LungRads

import os
from pathlib import Path

import pydicom
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget

from inference.domain.finding import Box3D, Finding, ModelInfo
from inference.imaging import load
from inference.nodules import analyze
from inference.nodules.risk_models import BrockModel
from viewer.review.clinical import SmokingStatus, load_inputs
from viewer.review.settings import JsonBackend, ReviewSettings
from viewer.review.store import Store
from viewer.widgets.patient_docks import install_patient_panel
from viewer.controllers.review_setup import install_review

pytestmark = pytest.mark.gui
NODULE = (56.21, 86.34, -115.87)  # LUNA16 reference nodule of LIDC-IDRI-0001 (world LPS mm)
SHOT = Path(__file__).resolve().parents[3] / "resources" / "screenshots" / "patient-panel.png"


@pytest.fixture()
def lidc_store(tmp_path, lidc1):
    first = next(iter(sorted(lidc1.rglob("*.dcm"))))
    ds = pydicom.dcmread(first, stop_before_pixels=True)
    study, series = str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID)
    volume = load(lidc1)
    analysis = analyze(volume, NODULE).analysis
    finding = Finding("f1", NODULE, Box3D.around(NODULE, 26.0), 0.97,
                      diameter_mm=analysis.measurement.mean_diameter_mm, analysis=analysis)
    store = Store(tmp_path / "store.db")
    store.add_series(study, series, str(lidc1), actor="screening")
    store.record_screening(series, [finding], ModelInfo("scripted", "1", "ab" * 32, operating_threshold=0.8),
                           flagged=True, highest_lung_rads=LungRads("4B"), highest_risk=analysis.malignancy_risk)
    settings = ReviewSettings(JsonBackend(tmp_path / "settings.json"))
    settings.set_reviewer("Dr Panel")
    yield store, series, settings
    store.close()


def _type(qtbot, spin, text: str) -> None:
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, Qt.Key.Key_Return)


def test_age_and_pack_years_change_the_risk_and_are_stored(window, qtbot, lidc_store, lidc1, lidc2):
    store, series, settings = lidc_store
    window.resize(1700, 1050)
    review = install_review(window, store, settings)
    c = install_patient_panel(window, review)
    with qtbot.waitSignal(window.volume_loaded, timeout=60000):
        window.open_path(str(lidc1))
    qtbot.waitUntil(lambda: review.session is not None and "f1" in c.risks, timeout=10000)
    qtbot.waitUntil(lambda: not c.measuring and c.panel.inputs().emphysema_laa_percent is not None,
                    timeout=60000)
    before = c.risk_of("f1")
    # the LIDC header is anonymised: no age, no sex -> defaults, and spiculation not assessed -> 2a
    assert before.estimate.model is BrockModel.FULL_WITHOUT_SPICULATION
    assert {"age_years", "sex"} <= set(before.defaults_used)
    laa = c.panel.inputs().emphysema_laa_percent
    assert 0.0 < laa < 5.0 and "absent" in c.panel.emphysema_measured.text()
    assert "emphysema" not in before.defaults_used  # measured on the CT, not defaulted

    _type(qtbot, c.panel.age, "70")
    c.panel.smoking.setCurrentIndex(c.panel.smoking.findData(SmokingStatus.FORMER))
    _type(qtbot, c.panel.pack_years, "45")
    after = c.risk_of("f1")
    assert after.probability > before.probability  # 70 y instead of the model's 62 y
    assert "age_years" not in after.defaults_used
    shown = c.panel.risks.item(0, 1).text()
    assert shown == f"{100 * after.probability:.1f} %" and shown != f"{100 * before.probability:.1f} %"
    assert c.panel.sources["age_years"].text() == "Age\n(reader)"

    qtbot.waitUntil(lambda: load_inputs(store, series) is not None
                    and load_inputs(store, series).inputs.pack_years == 45.0, timeout=5000)
    saved = load_inputs(store, series)
    assert saved.inputs.age_years == 70.0 and saved.inputs.smoking is SmokingStatus.FORMER
    assert saved.inputs.emphysema_laa_percent == pytest.approx(laa)
    assert saved.actor == "Dr Panel"
    assert any(a.action == "clinical_inputs" for a in store.audit_log(series))

    # the reader calls f1 not spiculated: the risk switches to model 2b, and that is stored too
    assert c.panel.spiculation.isEnabled() and "f1" in c.panel.spiculation_for.text()
    c.panel.spiculation.setCurrentIndex(c.panel.spiculation.findData(False))
    assert c.risk_of("f1").estimate.model is BrockModel.FULL_WITH_SPICULATION
    assert c.panel.risks.item(0, 2).text() == "2b"
    c.flush()
    assert load_inputs(store, series).inputs.spiculated("f1") is False
    c.panel.spiculation.setCurrentIndex(c.panel.spiculation.findData(None))  # back to "not assessed"
    c.flush()
    assert load_inputs(store, series).inputs.spiculated("f1") is None

    for dock in window.findChildren(QDockWidget):  # room for the panel in the picture
        if dock.windowTitle() in ("Findings", "Display"):
            dock.hide()
    window.resizeDocks([c.dock], [700], Qt.Orientation.Vertical)
    qtbot.wait(300)
    shot = QGuiApplication.primaryScreen().grabWindow(window.winId())
    assert not shot.isNull() and shot.width() >= 1000
    if os.environ.get("NODULELENS_WRITE_SCREENSHOTS"):
        shot.save(str(SHOT))

    # an edit still waiting for its save belongs to the study it was made on, not the next one
    _type(qtbot, c.panel.age, "71")
    with qtbot.waitSignal(window.volume_loaded, timeout=60000):
        window.open_path(str(lidc2))
    qtbot.waitUntil(lambda: c.series_uid is not None and c.series_uid != series, timeout=10000)
    assert load_inputs(store, series).inputs.age_years == 71.0
    assert load_inputs(store, c.series_uid) is None
    assert c.panel.inputs().age_years is None and c.panel.inputs().pack_years is None
    qtbot.waitUntil(lambda: not c.measuring, timeout=60000)
    c.flush()  # the measured %LAA-950 of LIDC-IDRI-0002 is part of its stored inputs
    assert load_inputs(store, c.series_uid).inputs.emphysema_laa_percent == pytest.approx(0.58, abs=0.05)
    # the store closes with the fixture while the closed window lives on: no timer may touch it later
    review.worklist_timer.stop()
    review.retry_timer.stop()
    c.save_timer.stop()
