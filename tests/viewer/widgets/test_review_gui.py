"""The review workflow on a real X server: one whole study by keyboard alone, checked in the store."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from inference.domain.finding import Box3D, Finding, ModelInfo
from inference.domain.nodule import LungRads
from viewer.review.errors import StoreFull
from viewer.review.model import Decision, FindingStatus, RejectReason, StudyStatus
from viewer.review.settings import JsonBackend, ReviewSettings
from viewer.review.store import Store
from viewer.controllers.review_setup import install_review
from viewer.widgets.reviewer_dialog import ReviewerDialog

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "review"))
from review_phantom_dicom import small_phantom, write_ct_series

pytestmark = pytest.mark.gui
MODEL = ModelInfo("classical", "1.0", "cd" * 32, operating_threshold=0.5)


@pytest.fixture()
def screened_store(tmp_path):
    """A phantom CT written as DICOM, registered with three stored AI findings (f1 on the nodule)."""
    phantom = small_phantom()
    study, series = write_ct_series(phantom.volume, tmp_path / "scan", "PGUI")
    truth = phantom.nodules[0].center
    other = (truth[0] + 30.0, truth[1], truth[2])
    findings = [Finding("f1", truth, Box3D.around(truth, 16.0), 0.9),
                Finding("f2", other, Box3D.around(other, 8.0), 0.7),
                Finding("f3", (truth[0], truth[1] + 20.0, truth[2]),
                        Box3D.around((truth[0], truth[1] + 20.0, truth[2]), 8.0), 0.6)]
    store = Store(tmp_path / "store.db")
    store.add_series(study, series, str(tmp_path / "scan"), actor="screening", patient_id="PGUI")
    store.record_screening(series, findings, MODEL, flagged=True, highest_lung_rads=LungRads.CAT_4A, highest_risk=0.2)
    settings = ReviewSettings(JsonBackend(tmp_path / "settings.json"))
    settings.set_reviewer("Dr Key")
    yield store, series, settings
    store.close()


def _activate(qtbot, window):
    """Xvfb has no window manager to hand the focus back after a dialog: do it by hand."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)


def _key(qtbot, window, key, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(window, key, modifier)
    qtbot.wait(10)


def _open_first_study(qtbot, window, c):
    view = c.worklist.view
    view.setFocus()
    view.selectRow(0)
    with qtbot.waitSignal(window.volume_loaded, timeout=60000):
        qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: c.session is not None)


def test_whole_study_by_keyboard(window, qtbot, screened_store):
    store, series, settings = screened_store
    phantom_diameter = 14.0
    c = install_review(window, store, settings)
    c.current_model = MODEL.model_id  # the model it was screened with
    assert [r.series_uid for r in c.worklist.visible_rows()] == [series]
    _open_first_study(qtbot, window, c)
    assert c.selected == "f1" and window.scene.selected == "f1"  # stored findings, no inference
    assert "Dr Key" in c.status_label.text() and str(store.path) in c.status_label.text()
    _activate(qtbot, window)

    _key(qtbot, window, Qt.Key.Key_A)                       # accept f1
    _key(qtbot, window, Qt.Key.Key_E)                       # edit f1: box 1 mm wider, Enter
    qtbot.waitUntil(lambda: c.dialog is not None and c.dialog.isVisible())
    qtbot.keyClick(c.dialog.spins[3], Qt.Key.Key_Up)
    qtbot.keyClick(c.dialog.spins[3], Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not c.dialog.isVisible())
    qtbot.waitUntil(lambda: len(store.decisions(series)) == 2, timeout=30000)  # measured off-thread
    f1 = c.session.state("f1").finding
    assert f1.box.size[0] == pytest.approx(17.0) and f1.box.size[1] == pytest.approx(16.0)
    assert f1.diameter_mm == pytest.approx(phantom_diameter, abs=3.0)  # re-measured on the scan
    _activate(qtbot, window)
    _key(qtbot, window, Qt.Key.Key_N)                       # → f2
    assert c.selected == "f2"
    _key(qtbot, window, Qt.Key.Key_R)                       # reject f2: reason 3, Enter
    qtbot.waitUntil(lambda: c.dialog is not None and c.dialog.isVisible())
    qtbot.keyClick(c.dialog, Qt.Key.Key_3)
    qtbot.keyClick(c.dialog, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not c.dialog.isVisible())
    assert c.session.state("f2").status is FindingStatus.REJECTED
    assert window.findings_list.state_text("f2") == "rejected"
    _activate(qtbot, window)
    _key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)   # undo the rejection
    assert c.session.state("f2").status is FindingStatus.PENDING
    _key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert c.session.state("f2").reason is RejectReason.CALCIFIED_GRANULOMA

    _key(qtbot, window, Qt.Key.Key_I)                       # add a nodule at the crosshair (f2)
    qtbot.waitUntil(lambda: any(fs.finding.source.value == "reviewer" for fs in c.session.findings),
                    timeout=30000)                          # measured off the GUI thread
    added = [fs for fs in c.session.findings if fs.finding.source.value == "reviewer"]
    assert len(added) == 1 and c.selected == added[0].finding.finding_id
    _key(qtbot, window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # sign-off refused: f3
    assert c.session.status is StudyStatus.IN_REVIEW and "f3" in c.panel.notice.text()
    _key(qtbot, window, Qt.Key.Key_N)                       # → f3, the only undecided one
    assert c.selected == "f3"
    _key(qtbot, window, Qt.Key.Key_A)
    _key(qtbot, window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # sign off
    assert c.session.status is StudyStatus.SIGNED_OFF

    study = Store(store.path, read_only=True).reviewed_study(series)
    assert study.status is StudyStatus.SIGNED_OFF and study.signed_off_by == "Dr Key"
    states = {fs.finding.finding_id: fs.status for fs in study.findings}
    assert states["f1"] is states["f3"] is FindingStatus.ACCEPTED
    assert states["f2"] is FindingStatus.REJECTED and states[added[0].finding.finding_id] is FindingStatus.ACCEPTED
    kinds = [d.decision for d in store.decisions(series)]
    assert kinds == [Decision.ACCEPTED, Decision.EDITED, Decision.REJECTED, Decision.RESET, Decision.REJECTED,
                     Decision.ADDED, Decision.ACCEPTED]
    assert {d.reviewer for d in store.decisions(series)} == {"Dr Key"}
    shown = [a.finding_id for a in store.audit_log(series) if a.action == "shown"]
    assert sorted(shown) == sorted(["f1", "f2", "f3", added[0].finding.finding_id])
    assert c.worklist.visible_rows()[0].status is StudyStatus.SIGNED_OFF
    assert c.worklist.visible_rows()[0].reviewer == "Dr Key"


def test_help_overlay_lists_the_shortcuts(window, qtbot, screened_store):
    store, _, settings = screened_store
    c = install_review(window, store, settings)
    _activate(qtbot, window)
    _key(qtbot, window, Qt.Key.Key_F1)
    assert c.help.isVisible()
    for key in ("A", "R", "E", "N / P", "Ctrl+Z / Ctrl+Shift+Z"):
        assert f"<b>{key}</b>" in c.help.label.text()
    qtbot.keyClick(c.help, Qt.Key.Key_Escape)
    assert not c.help.isVisible()


def test_unsaved_decision_is_shown_and_retried(window, qtbot, screened_store):
    store, series, settings = screened_store
    c = install_review(window, store, settings)
    _open_first_study(qtbot, window, c)
    for i in range(3):  # fill the store up to a page limit, as a full disk would
        store.log("note", "test", series, detail={"pad": "x" * 3000, "i": i})
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreFull):
        for _ in range(40):
            c.session.comment("f1", "padding " * 200)  # until the store is full
    c.session.undo()  # drops the unsaved comment
    assert not c.session.pending
    _activate(qtbot, window)
    _key(qtbot, window, Qt.Key.Key_A)
    assert [p.decision for p in c.session.pending] == [Decision.ACCEPTED]
    assert "NOT SAVED" in c.panel.unsaved.text() and c.panel.retry.isVisible()
    assert c.session.state("f1").status is FindingStatus.PENDING  # not shown as done
    assert not window.close() and window.isVisible()  # closing warns first: nothing lost silently
    assert f"1 action(s) are not in the store yet: kept in {c.session.journal.path}" in c.panel.notice.text()
    store._conn.execute("PRAGMA max_page_count = 1073741823")
    qtbot.mouseClick(c.panel.retry, Qt.MouseButton.LeftButton)
    assert not c.session.pending and c.session.state("f1").status is FindingStatus.ACCEPTED
    assert not c.panel.retry.isVisible()


def test_reviewer_prompt_needs_a_name(qtbot):
    d = ReviewerDialog("")
    qtbot.addWidget(d)
    ok = d.buttons.button(d.buttons.StandardButton.Ok)
    assert not ok.isEnabled()
    qtbot.keyClicks(d.name_edit, "  Dr  Who ")
    assert ok.isEnabled() and d.name == "Dr Who"


@pytest.mark.slow
def test_folder_screened_then_reviewed_by_keyboard(window, qtbot, tmp_path):
    """Done-when path: screen a folder with the real worker, open it from the worklist, decide every
    finding by keyboard, sign off; the store holds it all."""
    from inference.service.client import InferenceClient
    from viewer.review.screening import Detection, screen_folder

    phantom = small_phantom(seed=11)
    _, series = write_ct_series(phantom.volume, tmp_path / "scans" / "a", "PE2E")
    store = Store(tmp_path / "store.db")
    with InferenceClient(model="classical", device="cpu", torch_threads=1) as client:
        def detect(job, progress):
            r = client.detect(job.folder, series_uid=job.series_uid, saliency=False, progress=progress)
            return Detection(r.findings, r.model, r.threshold, r.saliency, r.info.study_instance_uid)
        summary = screen_folder(tmp_path / "scans", store, detect)
    assert summary.count("screened") == 1
    settings = ReviewSettings(JsonBackend(tmp_path / "settings.json"))
    settings.set_reviewer("Dr End")
    c = install_review(window, store, settings)
    c.current_model = "classical"  # the model it was screened with (the app uses its default model)
    _open_first_study(qtbot, window, c)
    n = len(c.session.findings)
    assert n == store.series_row(series)["n_findings"] >= 1
    _activate(qtbot, window)
    for i in range(n):
        if i % 2 == 0:
            _key(qtbot, window, Qt.Key.Key_A)
        else:
            _key(qtbot, window, Qt.Key.Key_R)
            qtbot.waitUntil(lambda: c.dialog is not None and c.dialog.isVisible())
            qtbot.keyClick(c.dialog, Qt.Key.Key_1)
            qtbot.keyClick(c.dialog, Qt.Key.Key_Return)
            _activate(qtbot, window)
        _key(qtbot, window, Qt.Key.Key_N)
    _key(qtbot, window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    study = store.reviewed_study(series)
    assert study.status is StudyStatus.SIGNED_OFF and study.signed_off_by == "Dr End"
    assert sum(fs.status is FindingStatus.ACCEPTED for fs in study.findings) == (n + 1) // 2
    assert sum(fs.reason is RejectReason.VESSEL for fs in study.findings) == n // 2
    store.close()


def test_add_nodule_tool_adds_where_clicked_and_measures_it(window, qtbot, screened_store, tmp_path):
    from PySide6.QtCore import QPoint

    store, series, settings = screened_store
    c = install_review(window, store, settings)
    _open_first_study(qtbot, window, c)
    target = store.reviewed_study(series).findings[0].finding.center  # f1 sits on the phantom nodule
    window.scene.views["axial"].set_cursor(target)
    qtbot.wait(50)
    widget = window.view_widget("axial")
    x, y = window.scene.views["axial"].world_to_display(target)
    ratio = widget._getPixelRatio()
    pos = QPoint(int(round(x / ratio)), int(round(widget.height() - 1 - y / ratio)))
    with qtbot.waitSignal(window.world_point_clicked):
        qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos)  # tool off: only navigates
    assert not c.measurer.busy and len(c.session.findings) == 3  # no add was started
    _activate(qtbot, window)
    _key(qtbot, window, Qt.Key.Key_D)
    assert c.add_tool_on and c.actions["add_tool"].isChecked()
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: len(c.session.findings) == 4, timeout=30000)
    added = next(fs.finding for fs in c.session.findings if fs.finding.source.value == "reviewer")
    assert np.allclose(added.center[:2], target[:2], atol=3.0)
    assert added.diameter_mm == pytest.approx(14.0, abs=3.0)  # measured like an AI finding
    assert store.decisions(series)[-1].decision is Decision.ADDED
