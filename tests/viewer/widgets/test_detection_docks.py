"""The window's Detect action on a real worker process: findings land in the review store and on
screen, a scan with stored findings is not detected again, and Cancel stops a running detection."""

from __future__ import annotations

import pytest

from viewer.messages import Source
from viewer.review.settings import JsonBackend, ReviewSettings
from viewer.review.store import Store
from viewer.controllers.detection import install_detection
from viewer.controllers.load_warnings import install_load_warnings
from viewer.controllers.review_setup import install_review

pytestmark = pytest.mark.gui


@pytest.fixture()
def review(window, tmp_path):
    settings = ReviewSettings(JsonBackend(tmp_path / "settings.json"))
    settings.set_reviewer("Dr Detect")
    store = Store(tmp_path / "store.db")
    controller = install_review(window, store, settings)
    yield controller
    store.close()


def test_opening_a_scan_detects_stores_and_shows_the_findings(window, qtbot, review, small_demo):
    det = install_detection(window, review)
    badge = install_load_warnings(window, review.store, det)
    try:
        window.set_volume(small_demo.volume)
        uid = small_demo.volume.info.series_instance_uid
        qtbot.waitUntil(lambda: review.store.is_screened(uid), timeout=120000)
        qtbot.waitUntil(lambda: review.session is not None and len(review.session.findings) > 0, timeout=10000)
        stored = review.store.stored_findings(uid)
        assert stored and all(s.saliency_path for s in stored[:1])
        assert {f.finding_id for f in window.findings} == {s.finding.finding_id for s in stored}
        # the top finding is one of the phantom's nodules
        top = max(stored, key=lambda s: s.finding.score).finding
        assert any(sum((a - b) ** 2 for a, b in zip(top.center, n.center, strict=True)) ** 0.5 < n.diameter_mm
                   for n in small_demo.nodules)
        assert "finding(s) at or above the operating point" in window.statusBar().currentMessage()
        # the worker's warnings about the scan (this small phantom holds little lung) join the badge
        worker = [m.text for m in window.messages.messages if m.source is Source.WORKER]
        assert any(w.startswith("only ") and "mL of aerated lung" in w for w in worker), worker
        assert set(worker) <= set(badge.warnings) and not badge.badge.isHidden()
        # opening it again shows the stored findings; nothing is detected twice
        window.set_volume(small_demo.volume)
        assert not det.runner.is_running()
        assert len(review.store.stored_findings(uid)) == len(stored)
    finally:
        det.runner.shutdown()


def test_detect_without_a_scan_says_so_and_cancel_stops_a_run(window, qtbot, small_demo):
    det = install_detection(window, None, auto=False)
    try:
        assert det.detect() is False
        assert "Open a scan first" in window.statusBar().currentMessage()
        window.set_volume(small_demo.volume)
        assert not det.runner.is_running()  # auto is off
        with qtbot.waitSignal(det.runner.failed, timeout=120000):
            assert det.detect()
            assert det.cancel_button.isVisible()
            det.cancel_button.click()
        assert not det.cancel_button.isVisible() and det.action.isEnabled()
        assert "Detection stopped" in window.statusBar().currentMessage()
        with qtbot.waitSignal(det.runner.finished, timeout=120000):
            det.action.trigger()  # the next run works, and its boxes go to the views
        qtbot.waitUntil(lambda: len(window.findings) > 0, timeout=5000)
    finally:
        det.runner.shutdown()
