"""Editing and drawing finding boxes with the mouse on a real X server, checked in the store and
in the pixels of the slice view."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from inference.domain.finding import Box3D, Finding, ModelInfo
from inference.domain.nodule import LungRads
from viewer.review.model import Decision
from viewer.review.settings import JsonBackend, ReviewSettings
from viewer.review.store import Store
from viewer.scene.capture import grab, write_png
from viewer.controllers.review_setup import install_review

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "review"))
from review_phantom_dicom import small_phantom, write_ct_series

pytestmark = pytest.mark.gui
MODEL = ModelInfo("classical", "1.0", "ef" * 32, operating_threshold=0.5)
NODULE_MM = 14.0


@pytest.fixture()
def study(tmp_path):
    """A phantom CT on disk with two stored AI findings: f1 (16 mm box) on the nodule, f2 beside it."""
    phantom = small_phantom()
    study_uid, series = write_ct_series(phantom.volume, tmp_path / "scan", "PDRAG")
    truth = phantom.nodules[0].center
    other = (truth[0] + 30.0, truth[1], truth[2])
    findings = [Finding("f1", truth, Box3D.around(truth, 16.0), 0.9),
                Finding("f2", other, Box3D.around(other, 8.0), 0.7)]
    store = Store(tmp_path / "store.db")
    store.add_series(study_uid, series, str(tmp_path / "scan"), actor="screening", patient_id="PDRAG")
    store.record_screening(series, findings, MODEL, flagged=True, highest_lung_rads=LungRads.CAT_4A, highest_risk=0.2)
    settings = ReviewSettings(JsonBackend(tmp_path / "settings.json"))
    settings.set_reviewer("Dr Mouse")
    yield store, series, settings, truth
    store.close()


def _open(qtbot, window, store, settings, view_name="axial"):
    c = install_review(window, store, settings)
    view = c.worklist.view
    view.setFocus()
    view.selectRow(0)
    with qtbot.waitSignal(window.volume_loaded, timeout=60000):
        qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: c.session is not None and window.scene.selected == "f1")
    window.resize(1800, 1100)
    window.active_view = view_name
    window.set_layout("single")  # a view big enough for pixel checks beside the review docks
    window.scene.set_crosshair_visible(False)
    qtbot.wait(100)
    return c


def _qt_pos(window, world, name="axial") -> QPoint:
    widget, view = window.view_widget(name), window.scene.views[name]
    x, y = view.world_to_display(world)
    r = widget._getPixelRatio()
    return QPoint(int(round(x / r)), int(round(widget.height() - 1 - y / r)))


def _mm_per_qt_px(window, name="axial") -> float:
    view = window.scene.views[name]
    ratio = window.view_widget(name)._getPixelRatio()
    return float(view.display_to_plane(1, 0)[0] - view.display_to_plane(0, 0)[0]) * ratio


def _move(widget, pos: QPoint, button: Qt.MouseButton = Qt.MouseButton.NoButton) -> None:
    """A mouse move delivered to the widget now (QTest's moves go through the X server's pointer,
    which arrives late or not at all on Xvfb)."""
    local = QPointF(pos)
    ev = QMouseEvent(QEvent.Type.MouseMove, local, QPointF(widget.mapToGlobal(pos)), Qt.MouseButton.NoButton,
                     button, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, ev)


def _drag(qtbot, widget, start: QPoint, end: QPoint, steps: int = 4, before_release=None) -> None:
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=start)
    for i in range(1, steps + 1):
        _move(widget, start + (end - start) * (i / steps), Qt.MouseButton.LeftButton)
        qtbot.wait(20)
    if before_release is not None:
        before_release()
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=end)


def _yellow_rect(img: np.ndarray, around: tuple[np.ndarray, np.ndarray], margin: int = 8):
    """Bounding box (col, row) of the pending-yellow outline within ``around`` ± margin pixels."""
    (c0, r0), (c1, r1) = around
    crop = img[max(r0 - margin, 0): r1 + margin + 1, max(c0 - margin, 0): c1 + margin + 1].astype(int)
    mask = (crop[..., 0] > 230) & (crop[..., 1] > 190) & (crop[..., 1] < 240) & (crop[..., 2] < 40)
    rows, cols = np.nonzero(mask)
    assert rows.size, "no outline drawn there"
    off = np.array([max(c0 - margin, 0), max(r0 - margin, 0)])
    return np.array([cols.min(), rows.min()]) + off, np.array([cols.max(), rows.max()]) + off


def _display_rect(window, box: Box3D, name="axial"):
    """Image (col, row) corners of a box's outline in a grabbed view (row 0 at the top)."""
    view = window.scene.views[name]
    h = view.render_window.GetSize()[1]
    pts = np.array([view.world_to_display(p) for p in (box.lo, box.hi)])
    cols, rows = pts[:, 0], h - 1 - pts[:, 1]
    return (np.array([cols.min(), rows.min()]).round().astype(int),
            np.array([cols.max(), rows.max()]).round().astype(int))


def test_dragging_the_selected_box_moves_it_and_stores_an_edit(window, qtbot, study, tmp_path):
    store, series, settings, truth = study
    c = _open(qtbot, window, store, settings)
    old = c.session.state("f1").finding.box
    widget, mm = window.view_widget("axial"), _mm_per_qt_px(window)
    start = _qt_pos(window, old.center)
    end = start + QPoint(24, -16)  # screen right = patient left (+x), screen up = anterior (-y)
    expected = np.array([24 * mm, -16 * mm, 0.0])
    shot = {}

    def look():  # the outline follows the mouse before anything is stored
        img = grab(window.scene.views["axial"].render_window)
        shot["moved"] = _yellow_rect(img, _display_rect(window, Box3D(tuple(np.add(old.lo, expected)),
                                                                          tuple(np.add(old.hi, expected)))))
        shot["png"] = write_png(img, tmp_path / "drag-in-progress.png")
        assert len(store.decisions(series)) == 0

    _drag(qtbot, widget, start, end, before_release=look)
    qtbot.waitUntil(lambda: len(store.decisions(series)) == 1, timeout=30000)  # measured off-thread
    drawn = shot["moved"]
    want = _display_rect(window, Box3D(tuple(np.add(old.lo, expected)), tuple(np.add(old.hi, expected))))
    line = window.scene.views["axial"].boxes.selected.actor.GetProperty().GetLineWidth()
    assert np.all(np.abs(drawn[0] - want[0]) <= line) and np.all(np.abs(drawn[1] - want[1]) <= line)

    stored = Store(store.path, read_only=True).reviewed_study(series)
    f1 = next(fs.finding for fs in stored.findings if fs.finding.finding_id == "f1")
    assert np.allclose(np.subtract(f1.box.lo, old.lo), expected, atol=1e-6)
    assert np.allclose(f1.box.size, old.size, atol=1e-6)
    d = store.decisions(series)[-1]
    assert d.decision is Decision.EDITED and d.finding_id == "f1" and d.reviewer == "Dr Mouse"
    assert window.scene.selected == "f1" and np.allclose(window.scene.boxes[0].lo, f1.box.lo)


def test_coronal_drag_moves_along_z_with_one_render_per_view_per_frame(window, qtbot, study):
    store, series, settings, _ = study
    c = _open(qtbot, window, store, settings, "coronal")
    old = c.session.state("f1").finding.box
    widget, mm = window.view_widget("coronal"), _mm_per_qt_px(window, "coronal")
    start = _qt_pos(window, old.center, "coronal")
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=start)
    qtbot.wait(500)  # the 3D view's full-quality frame after loading is done
    before = window.scheduler.render_count
    for i in range(1, 11):  # ten mouse moves before the event loop gets to render
        _move(widget, start + QPoint(0, -2 * i), Qt.MouseButton.LeftButton)
    assert window.scheduler.render_count == before
    qtbot.waitUntil(lambda: window.scheduler.idle)
    assert window.scheduler.render_count - before <= len(window.scene.views)  # once per slice view
    shown = {b.key: b for b in window.scene.views["coronal"].boxes.boxes}["f1"]
    assert shown.lo[2] - old.lo[2] == pytest.approx(20 * mm, abs=1e-6)  # screen up is superior (+z)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=start + QPoint(0, -20))
    qtbot.waitUntil(lambda: len(store.decisions(series)) == 1, timeout=30000)
    f1 = c.session.state("f1").finding
    assert np.allclose(np.subtract(f1.box.lo, old.lo), (0.0, 0.0, 20 * mm), atol=1e-6)
    assert (f1.box.lo[1], f1.box.hi[1]) == (old.lo[1], old.hi[1])  # the coronal normal (y) is kept


def test_dragging_a_corner_resizes_the_box_and_remeasures(window, qtbot, study):
    store, series, settings, _ = study
    c = _open(qtbot, window, store, settings)
    old = c.session.state("f1").finding.box
    widget, mm = window.view_widget("axial"), _mm_per_qt_px(window)
    corner = (old.hi[0], old.lo[1], old.center[2])  # top right on screen
    start = _qt_pos(window, corner)
    _move(widget, start)  # hovering shows what a press would grab
    assert widget.cursor().shape() is Qt.CursorShape.SizeBDiagCursor
    _move(widget, _qt_pos(window, old.center))
    assert widget.cursor().shape() is Qt.CursorShape.SizeAllCursor
    _drag(qtbot, widget, start, start + QPoint(5, -5))
    qtbot.waitUntil(lambda: len(store.decisions(series)) == 1, timeout=30000)
    f1 = c.session.state("f1").finding
    assert f1.box.hi[0] - old.hi[0] == pytest.approx(5 * mm, abs=1.5 * mm)  # the press is a pixel off the corner
    assert old.lo[1] - f1.box.lo[1] == pytest.approx(5 * mm, abs=1.5 * mm)
    assert f1.box.lo[0] == old.lo[0] and f1.box.hi[1] == old.hi[1]        # opposite faces stay
    assert (f1.box.lo[2], f1.box.hi[2]) == (old.lo[2], old.hi[2])        # extent along the normal kept
    assert f1.diameter_mm == pytest.approx(NODULE_MM, abs=3.0)           # re-measured in the new box
    assert store.decisions(series)[-1].decision is Decision.EDITED


def test_add_tool_drag_draws_a_box_that_becomes_a_measured_reviewer_finding(window, qtbot, study):
    store, series, settings, truth = study
    c = _open(qtbot, window, store, settings)
    window.select_finding("f2")  # f1's outline, around the nodule, is not grabbed any more
    qtbot.wait(50)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_D)
    assert c.add_tool_on and window.box_drawing
    view, widget = window.scene.views["axial"], window.view_widget("axial")
    a = _qt_pos(window, (truth[0] - 10.0, truth[1] - 9.0, truth[2]))
    b = _qt_pos(window, (truth[0] + 10.0, truth[1] + 11.0, truth[2]))
    wa, wb = (view.display_to_world(*widget.vtk_xy(p)) for p in (a, b))
    _drag(qtbot, widget, a, b)
    qtbot.waitUntil(lambda: len(c.session.findings) == 3, timeout=30000)
    added = next(fs.finding for fs in c.session.findings if fs.finding.source.value == "reviewer")
    assert np.allclose(added.box.lo[:2], np.minimum(wa, wb)[:2], atol=1e-6)
    assert np.allclose(added.box.hi[:2], np.maximum(wa, wb)[:2], atol=1e-6)
    side = max(added.box.size[:2])
    assert side == pytest.approx(20.0, abs=2 * _mm_per_qt_px(window))
    assert added.box.size[2] == pytest.approx(side) and added.box.center[2] == pytest.approx(view.plane.origin[2])
    assert added.diameter_mm == pytest.approx(NODULE_MM, abs=3.0)
    assert store.decisions(series)[-1].decision is Decision.ADDED
    assert c.selected == added.finding_id


def test_escape_cancels_a_drag(window, qtbot, study):
    store, series, settings, _ = study
    c = _open(qtbot, window, store, settings)
    old = c.session.state("f1").finding.box
    widget = window.view_widget("axial")
    start = _qt_pos(window, old.center)

    def escape():
        assert not np.allclose(window.scene.views["axial"].boxes.boxes[0].lo, old.lo)  # dragged on screen
        qtbot.keyClick(widget, Qt.Key.Key_Escape)

    edited: list[object] = []
    window.box_edited.connect(lambda *args: edited.append(args))  # emitted on release, if at all
    _drag(qtbot, widget, start, start + QPoint(10, 0), before_release=escape)
    assert edited == [] and not c.measurer.busy  # no edit was started: nothing can arrive later
    assert store.decisions(series) == [] and c.session.state("f1").finding.box == old
    shown = {b.key: b for b in window.scene.views["axial"].boxes.boxes}
    assert shown["f1"].lo == old.lo and shown["f1"].hi == old.hi
    img = grab(window.scene.views["axial"].render_window)
    got, want = _yellow_rect(img, _display_rect(window, old)), _display_rect(window, old)
    assert np.all(np.abs(got[0] - want[0]) <= 4) and np.all(np.abs(got[1] - want[1]) <= 4)


def test_without_the_review_a_drag_only_moves_the_crosshair(window, qtbot, small_demo):
    window.set_volume(small_demo.volume)
    centre = small_demo.nodules[0].center
    window.set_findings([Finding("x1", centre, Box3D.around(centre, 16.0), 0.8)])
    window.select_finding("x1")
    qtbot.wait(50)
    widget = window.view_widget("axial")
    start = _qt_pos(window, centre)
    with qtbot.assertNotEmitted(window.box_edited):  # a release emits at once, or never
        _drag(qtbot, widget, start, start + QPoint(8, 0))
    assert window.scene.boxes[0].lo == Box3D.around(centre, 16.0).lo
    assert window.scene.cursor[0] - centre[0] == pytest.approx(8 * _mm_per_qt_px(window), abs=1.0)
