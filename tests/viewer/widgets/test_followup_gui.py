"""The comparison layout on a real X server: prior beside current, linked through the registration."""

from __future__ import annotations
from inference.domain.nodule import LungRads

import os
from pathlib import Path

import numpy as np
import pytest

from inference.domain.finding import Box3D, Finding
from inference.phantom.followup import make_followup_phantom, write_followup
from viewer.review.comparisons import ensure_dates
from viewer.review.store import Store
from viewer.widgets.followup_view import FollowupView, build_view_inputs, window_slice

pytestmark = pytest.mark.gui


@pytest.fixture()
def stored_pair(tmp_path):
    pair = make_followup_phantom(7, interval_days=365)
    paths = write_followup(pair, tmp_path / "fu")
    store = Store(tmp_path / "review.sqlite")
    for name, vol in (("prior", pair.prior), ("current", pair.current)):
        i = vol.info
        store.add_series(i.study_instance_uid, i.series_instance_uid, paths[name], actor="test",
                         patient_id=i.patient_id)
        found = []
        for n in pair.nodules:
            c = n.current_center if name == "current" else n.prior_center
            if c is not None:
                found.append(Finding(n.key, c, Box3D.around(c, 12.0), 0.9))
        store.record_screening(i.series_instance_uid, found, None, flagged=True, highest_lung_rads=LungRads("3"),
                               highest_risk=None)
    ensure_dates(store, pair.current.info.series_instance_uid)
    yield pair, store
    store.close()


def test_comparison_layout_links_prior_and_current(qtbot, stored_pair, tmp_path):
    pair, store = stored_pair
    current, prior_on_current, rows, header = build_view_inputs(store, pair.current.info.series_instance_uid)
    assert "Lung-RADS 4B" in header and "prior CT of 2024-03-02" in header
    view = FollowupView(current, prior_on_current, rows, header)
    qtbot.addWidget(view)
    view.resize(1000, 800)
    view.show()
    qtbot.waitExposed(view)
    stable = next(i for i, r in enumerate(rows) if r.key == "T3-stable")
    view.select(stable)
    truth = next(n for n in pair.nodules if n.key == "T3-stable")
    z, y, x = current.world_to_index(truth.current_center)
    assert view.k == round(z) and abs(view.cross[0] - y) < 2 and abs(view.cross[1] - x) < 2
    # the same anatomy under the crosshair in both panes: the stable nodule is dense in the registered prior too
    k, r, c = view.k, int(round(view.cross[0])), int(round(view.cross[1]))
    assert prior_on_current.voxels[k, r - 1:r + 2, c - 1:c + 2].mean() > -300
    assert current.voxels[k, r - 1:r + 2, c - 1:c + 2].mean() > -300
    assert view.chart.pixmap() is not None and not view.chart.pixmap().isNull()
    assert "stable" in view.reason.text() and "2024-03-02" in view.reason.text()
    grown = next(r for r in rows if r.key == "T1-grow")
    assert grown.doubling_time.endswith(" d") and grown.prior_size and grown.lung_rads == "4B"
    view.set_slice(view.k + 3)  # scrolling one pane moves both (one slice index for both)
    view.current_pane.windowed.emit(100.0, -500.0)  # a right-drag on one pane windows both
    assert (view.level, view.width_hu) == (-500.0, 1000.0)
    img = view.grab().toImage()
    assert img.width() > 0
    shot = Path(os.environ.get("NODULELENS_SCREENSHOT_DIR", tmp_path)) / "followup_layout.png"
    assert img.save(str(shot))
    assert window_slice(np.array([[-1600, -600, 400]], np.int16), -600, 1500).tolist() == [[0, 127, 255]]


def test_compare_with_prior_action_docks_the_layout(qtbot, window, stored_pair):
    from inference.imaging import load
    from viewer.widgets.followup_view import install_followup

    pair, store = stored_pair
    action = install_followup(window, store)
    window.set_volume(load(store.series_row(pair.current.info.series_instance_uid)["scan_path"]))
    action.trigger()  # the comparison runs in a worker thread; the dock appears on the GUI thread
    qtbot.waitUntil(lambda: getattr(window, "followup_view", None) is not None, timeout=120_000)
    view = window.followup_view
    assert {r.key for r in view.rows} >= {"T1-grow", "T5-new", "prior:T4-resolved"}
