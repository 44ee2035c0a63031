"""The live operating point on LIDC-IDRI-0001 (a slab around its nodule) on a real X server: the real
detector's candidates
down to the card's floor, stored like a screening in a real store; moving the slider changes which
findings are drawn (dimmed or hidden) and the expected FP/scan read from the model card, and the
point is stored with the study and audited."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from inference.training.operating_table import DEFAULT_FLOOR
from viewer.review.operating_point import AUDIT_ACTION, BelowPoint, operating_point
from viewer.review.settings import JsonBackend, ReviewSettings
from viewer.review.store import Store

pytestmark = pytest.mark.gui
NODULE = (56.21, 86.34, -115.87)  # LUNA16 reference, world LPS mm


@pytest.fixture(scope="module")
def lidc1_detected(lidc1):
    import torch

    from inference.detection.detector import load_detector
    from inference.imaging import load
    from inference.service.operating import detect_at

    torch.set_num_threads(2)
    full = load(lidc1)
    # the 40 slices (100 mm) around the LUNA16 nodule: a real slab of the scan, a third of the detection time
    z = int(round(full.world_to_index(NODULE)[0]))
    lo = max(0, z - 20)
    affine = np.array(full.affine)
    affine[:3, 3] = full.index_to_world((float(lo), 0.0, 0.0))
    volume = full.with_voxels(np.ascontiguousarray(full.voxels[lo:lo + 40]), affine)
    det = load_detector("nodulelens-cnn-v2", "cpu")
    findings, point = detect_at(det, volume, None, DEFAULT_FLOOR)
    return volume, findings, point, det.model_info


def test_slider_changes_the_findings_shown_the_readout_and_the_stored_point(qtbot, window, tmp_path,
                                                                            lidc1_detected) -> None:
    from viewer.widgets.operating_point import install_operating_point

    volume, findings, card_point, model = lidc1_detected
    assert card_point == 0.8 and any(f.score < 0.8 for f in findings) and findings[0].score >= 0.8
    assert np.linalg.norm(np.subtract(findings[0].center, NODULE)) < 23.35 / 2  # the top one is the nodule
    assert any(f.score < 0.6 for f in findings) and any(0.6 <= f.score < 0.8 for f in findings)
    info = volume.info
    store = Store(tmp_path / "store.db")
    store.add_series(info.study_instance_uid, info.series_instance_uid, "lidc1", actor="screening")
    store.record_screening(info.series_instance_uid, findings, model, flagged=True, highest_lung_rads=None,
                           highest_risk=None)
    settings = ReviewSettings(JsonBackend(tmp_path / "settings.json"))
    settings.set_reviewer("Dr Point")
    control = install_operating_point(window, SimpleNamespace(store=store, settings=settings))
    window.resize(1600, 1000)
    window.set_volume(volume)
    window.set_findings(findings)
    panel = control.panel
    assert panel.point() == pytest.approx(0.8) and "(the card's point)" in panel.value.text()
    assert "0.00 FP/scan" in panel.readout.text() and "phantoms (20 scans, 60 nodules)" in panel.readout.text()

    def dimmed() -> set[str]:
        return {b.key for b in window.scene.boxes if b.dimmed}

    above = {f.finding_id for f in findings if f.score >= 0.8}
    assert {b.key for b in window.scene.boxes} == {f.finding_id for f in findings}
    assert dimmed() == {f.finding_id for f in findings} - above
    assert panel.counts.text().startswith(f"{len(above)} at or above the point, {len(findings) - len(above)} below")

    listed_dim = {r.finding_id for r in window.findings_list.model.rows if r.below_point}
    assert listed_dim == {f.finding_id for f in findings} - above  # the list dims the same rows
    panel.slider.setValue(60)  # the reader lowers the point
    assert dimmed() == {f.finding_id for f in findings if f.score < 0.6}
    assert "0.20 FP/scan" in panel.readout.text() and "4.30 FP/scan" in panel.readout.text()
    qtbot.waitUntil(lambda: operating_point(store, info.series_instance_uid) == 0.6, timeout=5000)

    panel.below.setCurrentIndex(panel.below.findData(BelowPoint.HIDDEN))
    assert {b.key for b in window.scene.boxes} == {f.finding_id for f in findings if f.score >= 0.6}
    assert window.findings_list.finding_ids == [f.finding_id for f in findings if f.score >= 0.6]
    window.select_finding(findings[0].finding_id)
    qtbot.wait(300)
    shot = window.screen().grabWindow(window.winId())
    shot.save(str(tmp_path / "operating-point.png"))

    panel.reset.click()  # back to the card's point, stored at once
    assert operating_point(store, info.series_instance_uid) == 0.8
    audit = [a for a in store.audit_log(info.series_instance_uid) if a.action == AUDIT_ACTION]
    assert [a.actor for a in audit] == ["Dr Point", "Dr Point"]
    store.close()
