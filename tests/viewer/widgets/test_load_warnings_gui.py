"""Every warning about the scan stays in sight (real Xvfb): all of the loader's in Messages and in a
status-bar badge that later status messages do not replace; the warnings a screening stored with
the series come back when it is opened; the worklist's tooltip lists them; markup stays text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from PySide6.QtCore import Qt

from qt_text import tip_text

from inference.domain.finding import ModelInfo
from inference.imaging.volume import SeriesInfo, Volume
from viewer.controllers.load_warnings import FROM_SCREENING, install_load_warnings
from viewer.review.store import Store
from viewer.widgets.worklist_panel import WorklistPanel

pytestmark = pytest.mark.gui


@pytest.fixture()
def two_warning_scan(tmp_path: Path) -> Path:
    """A float MetaImage the loader warns about twice: a value beyond int16 (clipped), and no air."""
    voxels = np.full((20, 24, 24), 40.0, dtype=np.float32)
    voxels[3, 4, 5] = 50000.0
    img = sitk.GetImageFromArray(voxels)
    img.SetSpacing((1.0, 1.0, 2.0))
    path = tmp_path / "no-air.mha"
    sitk.WriteImage(img, str(path))
    return path


def test_every_loader_warning_is_listed_and_the_badge_outlives_later_status_messages(
        window, qtbot, two_warning_scan: Path) -> None:
    from inference.imaging import load

    expected = load(two_warning_scan).info.warnings
    assert len(expected) == 2, expected  # clipped values, and no voxel below -500 HU
    badges = install_load_warnings(window)
    with qtbot.waitSignal(window.volume_loaded, timeout=60000):
        window.open_path(two_warning_scan)
    texts = [m.text for m in window.messages.messages]
    assert all(w in texts for w in expected), texts  # each one, not only the last
    lines = window.messages_panel.lines()
    assert all(any(line.endswith(w) for line in lines) for w in expected), lines
    window.statusBar().showMessage("Detecting nodules (the worker runs in the background)…")
    assert badges.badge.isVisible() and badges.warnings == expected
    assert badges.badge.text() == "⚠ 2 warning(s) about this scan: see Messages"
    assert tip_text(badges.badge.toolTip()).splitlines() == list(expected)


def test_stored_screening_warnings_come_back_with_the_series_and_markup_stays_text(
        window, qtbot, tmp_path: Path) -> None:
    hostile = "<img src=/etc/passwd.png><h1>F002</h1>: not measured"
    with Store(tmp_path / "s.db") as store:
        store.add_series("1.2.3", "1.2.3.4", "/scans/a", actor="screening", patient_id="P1")
        store.record_screening("1.2.3.4", [], ModelInfo("m", "1", "ab" * 32), flagged=False,
                               highest_lung_rads=None, highest_risk=None,
                               warnings=["slice steps vary by up to 3%", hostile])
        badges = install_load_warnings(window, store)
        info = SeriesInfo(modality="CT", series_instance_uid="1.2.3.4", study_instance_uid="1.2.3",
                          series_description="stored", warnings=("slice steps vary by up to 3%",))
        volume = Volume(np.full((16, 16, 16), -800, np.int16), np.eye(4), info)
        with qtbot.waitSignal(window.volume_loaded):
            window.set_volume(volume)
        assert badges.warnings == ("slice steps vary by up to 3%", hostile)
        assert [m.text for m in window.messages.messages].count(FROM_SCREENING + hostile) == 1
        assert tip_text(badges.badge.toolTip()).splitlines() == list(badges.warnings)  # literal, no image

        panel = WorklistPanel()
        qtbot.addWidget(panel)
        panel.set_rows(store.worklist())
        tip = panel.model.data(panel.model.index(0, 0), Qt.ItemDataRole.ToolTipRole)
        shown = tip_text(tip)  # what the tooltip puts on screen
        assert shown.splitlines() == ["/scans/a", "warning: slice steps vary by up to 3%", f"warning: {hostile}"]

        with qtbot.waitSignal(window.volume_loaded):  # the next scan has none: the badge goes
            window.set_volume(Volume(np.full((16, 16, 16), -800, np.int16), np.eye(4)))
        assert not badges.badge.isVisible() and badges.warnings == ()
