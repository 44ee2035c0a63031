"""The one findings list on a real X server: 8+ rows visible at 1600x1000, sortable, the finding
card, zoom to the selected finding, every loader warning in the Messages panel, a remapped key."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PySide6.QtCore import Qt

from inference.domain.finding import Box3D, Finding, ModelInfo
from viewer.review.model import FindingStatus
from viewer.review.settings import JsonBackend, ReviewSettings
from viewer.review.store import Store
from viewer.controllers.review_setup import install_review

pytestmark = pytest.mark.gui
MODEL = ModelInfo("classical", "1.0", "cd" * 32, operating_threshold=0.5)


def _review(window, tmp_path, volume, n: int, keys: dict[str, object] | None = None):
    """A store with ``n`` AI findings on ``volume``'s series and the review installed."""
    info = volume.info
    c0 = volume.index_to_world(np.array(volume.shape) / 2)
    findings = [Finding(f"f{i}", tuple(c0 + (4.0 * i, 0.0, 0.0)), Box3D.around(tuple(c0 + (4.0 * i, 0.0, 0.0)), 6.0),
                        round(0.95 - 0.05 * i, 2)) for i in range(1, n + 1)]
    store = Store(tmp_path / "store.db")
    store.add_series(info.study_instance_uid or "1.2.3", info.series_instance_uid, "demo", actor="screening")
    store.record_screening(info.series_instance_uid, findings, MODEL, flagged=True, highest_lung_rads=None,
                           highest_risk=None)
    backend = JsonBackend(tmp_path / "settings.json")
    for k, v in (keys or {}).items():
        backend.setValue(f"keys/{k}", v)
    settings = ReviewSettings(backend)
    settings.set_reviewer("Dr List")
    return install_review(window, store, settings), store


def _activate(qtbot, window):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)


def test_eight_rows_fit_and_the_list_sorts_and_drives_the_card(window, qtbot, tmp_path, small_demo):
    window.resize(1600, 1000)
    c, store = _review(window, tmp_path, small_demo.volume, 10)
    with qtbot.waitSignal(window.volume_loaded):
        window.set_volume(small_demo.volume)
    qtbot.waitUntil(lambda: c.session is not None and c.selected == "f1")
    table = window.findings_list.table
    qtbot.waitUntil(lambda: table.viewport().height() > 0)
    visible = [r for r in range(window.findings_list.row_count())
               if table.viewport().rect().contains(table.visualRect(window.findings_list.model.index(r, 0)))]
    assert len(visible) >= 8, f"only {len(visible)} rows visible"
    table.sortByColumn(7, Qt.SortOrder.AscendingOrder)  # score, lowest first
    assert window.findings_list.finding_ids[:2] == ["f10", "f9"]
    assert window.findings_list.state_text("f1") == "pending"
    assert window.finding_card.title.text().startswith("f1 ·")
    assert "operating point 0.50" in window.finding_card.values["Score"].text()
    assert not window.finding_card.image.pixmap().isNull()  # the key image
    window.findings_list.select_row(0)  # f10 after sorting
    assert c.selected == "f10" and window.finding_card.title.text().startswith("f10 ·")
    window.findings_list.set_changes({"f10": "+1.5 mm"})
    assert window.findings_list.model.rows[0].cells()[4] == "+1.5 mm"
    store.close()


def test_remapped_key_accepts_and_zoom_key_zooms(window, qtbot, tmp_path, small_demo):
    c, store = _review(window, tmp_path, small_demo.volume, 3, keys={"accept": "Y"})
    with qtbot.waitSignal(window.volume_loaded):
        window.set_volume(small_demo.volume)
    qtbot.waitUntil(lambda: c.selected == "f1")
    _activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_A)  # no longer bound
    assert c.session.state("f1").status is FindingStatus.PENDING
    with qtbot.waitSignal(window.finding_selected, raising=False, timeout=200) as no_sig:
        qtbot.keyClick(window, Qt.Key.Key_Y)
    assert c.session.state("f1").status is FindingStatus.ACCEPTED and not no_sig.signal_triggered
    assert window.actions_by_name["accept"].shortcut().toString() == "Y"
    view = window.scene.views["axial"]
    before = view.camera.GetParallelScale()
    qtbot.keyClick(window, Qt.Key.Key_Z)
    assert view.camera.GetParallelScale() < before / 3  # 6 mm box: zoomed right in
    fx, fy, _ = view.camera.GetFocalPoint()
    u, v, _ = view.plane.to_plane(c.session.state("f1").finding.center)
    assert abs(fx - u) < 1.0 and abs(fy - v) < 1.0
    store.close()


def test_every_loader_warning_is_listed(window, qtbot, small_demo):
    vol = small_demo.volume
    warnings = ("padding replaced by -1024 HU", "1 localizer image excluded", "2 duplicate slices dropped")
    noisy = dataclasses.replace(vol, info=vol.info.with_warnings(*warnings))
    window.set_volume(noisy)
    lines = window.messages_panel.lines()
    assert len(lines) == 3 and all(w in line for w, line in zip(warnings, lines, strict=True))
    assert "3 warning(s)" in window.statusBar().currentMessage()
