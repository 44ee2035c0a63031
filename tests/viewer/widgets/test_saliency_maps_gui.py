"""Every finding's saliency map from the store's files, in the real window on Xvfb: the selected
finding's map is drawn, "All findings' maps" draws them all, H and the opacity slider work."""

from __future__ import annotations

import gc
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import Qt

from inference.domain.finding import ModelInfo
from inference.domain.saliency import SaliencyMethod
from inference.service.findings_file import save_saliency
from viewer.review.store import Store
from viewer.demo_truth import gaussian_saliency, truth_findings
from viewer.scene.heat import MEANING, merge_maps
from viewer.widgets.saliency_loader import SaliencyLoader, install_saliency_loader

pytestmark = pytest.mark.gui


def test_selected_or_all_maps_from_the_store(qtbot, window, small_demo, tmp_path) -> None:
    volume = small_demo.volume
    findings = truth_findings(small_demo.nodules)[:3]
    paths = {f.finding_id: str(save_saliency(gaussian_saliency(volume, [n]), tmp_path / f"{f.finding_id}.npz",
                                             method=SaliencyMethod.OCCLUSION))
             for f, n in zip(findings, small_demo.nodules, strict=False)}
    uid = volume.info.series_instance_uid
    store = Store(tmp_path / "store.db")
    store.add_series(volume.info.study_instance_uid or "1.2.3", uid, "demo", actor="screening")
    store.record_screening(uid, findings, ModelInfo("m", "1", "ab" * 32, operating_threshold=0.5),
                           flagged=True, highest_lung_rads=None, highest_risk=None, saliency_paths=paths)
    loader = SaliencyLoader(window, store)
    window.set_volume(volume)
    window.set_findings(findings)
    scene = window.scene
    assert set(scene.saliency_maps) == set(paths) and not loader.problems
    assert window.controls.meaning.text().startswith("Saliency (occlusion sensitivity): evidence")

    window.select_finding(findings[1].finding_id)
    assert scene.saliency is scene.saliency_maps[findings[1].finding_id]
    assert scene.view3d.saliency.volume is scene.saliency  # the 3D view draws the same map

    window.controls.saliency_all.setChecked(True)  # "All findings' maps"
    merged = scene.saliency
    assert merged is not None and all(merged is not m for m in scene.saliency_maps.values())
    for f in findings:  # each finding's hot centre is hot in the merged map
        idx = np.rint(merged.world_to_index(f.center)).astype(int)
        assert merged.voxels[tuple(idx)] > 0.9
    window.select_finding(findings[0].finding_id)
    assert scene.saliency is merged  # selection keeps the merged map while "all" is on
    window.controls.saliency_all.setChecked(False)
    assert scene.saliency is scene.saliency_maps[findings[0].finding_id]

    window.controls.opacity.setValue(25)
    assert scene.views["axial"].saliency.actor.GetProperty().GetOpacity() == pytest.approx(0.25)
    assert scene.view3d.saliency.actor.GetProperty().GetOpacity() == pytest.approx(0.25)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(window, "H")
    assert not scene.saliency_visible and not window.controls.saliency_box.isChecked()
    assert not scene.view3d.saliency.actor.GetVisibility()
    assert not scene.views["axial"].saliency.actor.GetVisibility()
    store.close()


def test_the_legend_names_the_method_of_each_map_on_screen(qtbot, window, small_demo, tmp_path) -> None:
    """Two findings' maps by Grad-CAM and one from before methods were recorded: the legend names
    both, as plain text; without maps it names none. Installed as the app installs it."""
    volume = small_demo.volume
    findings = truth_findings(small_demo.nodules)[:3]
    crops = [gaussian_saliency(volume, [n]) for n in small_demo.nodules[:3]]
    paths = {f.finding_id: str(save_saliency(c, tmp_path / f"{f.finding_id}.npz", method=SaliencyMethod.GRAD_CAM))
             for f, c in zip(findings[:2], crops, strict=False)}
    old = tmp_path / "old.npz"  # voxels and affine only, as written before the method was recorded
    np.savez_compressed(old, voxels=np.rint(crops[2].voxels * 255).astype(np.uint8), affine=crops[2].affine)
    paths[findings[2].finding_id] = str(old)
    uid = volume.info.series_instance_uid
    store = Store(tmp_path / "store.db")
    store.add_series(volume.info.study_instance_uid or "1.2.3", uid, "demo", actor="screening")
    store.record_screening(uid, findings, ModelInfo("not-installed", "1", "ab" * 32, operating_threshold=0.5),
                           flagged=True, highest_lung_rads=None, highest_risk=None, saliency_paths=paths)
    install_saliency_loader(window, SimpleNamespace(store=store))  # as the app does: result not kept
    gc.collect()
    window.set_volume(volume)
    window.set_findings(findings)
    assert set(window.scene.saliency_maps) == set(paths)
    meaning = window.controls.meaning
    assert meaning.text() == ("Saliency (Grad-CAM, unknown method): evidence the model used (per finding, "
                              "0 = none, 1 = most)")
    assert meaning.textFormat() == Qt.TextFormat.PlainText
    window.set_findings(findings[2:])  # only the old map on screen
    assert meaning.text().startswith("Saliency (unknown method):") and "Grad-CAM" not in meaning.text()
    window.set_findings([])
    assert meaning.text() == MEANING
    store.close()


def test_merge_keeps_each_crop_on_the_scan_grid(small_demo) -> None:
    volume = small_demo.volume
    a, b = (gaussian_saliency(volume, [n]) for n in small_demo.nodules[:2])
    m = merge_maps([a, b])
    for crop in (a, b):
        o = np.rint(m.world_to_index(crop.index_to_world((0.0, 0.0, 0.0)))).astype(int)
        sub = m.voxels[tuple(slice(int(s), int(s) + n) for s, n in zip(o, crop.shape, strict=True))]
        assert np.all(sub >= crop.voxels - 1e-6)
    assert merge_maps([]) is None


def test_operating_point_is_stored_once_detection_has_screened_the_open_scan(qtbot, window, small_demo,
                                                                            tmp_path) -> None:
    """The app opens a scan first and stores the detection's findings later: the dock must then use
    (and store) the study's point. Small phantom, real store, the window's real signals."""
    from types import SimpleNamespace

    from viewer.review.operating_point import AUDIT_ACTION, operating_point
    from viewer.review.settings import JsonBackend, ReviewSettings
    from viewer.widgets.operating_point import install_operating_point

    volume = small_demo.volume
    uid = volume.info.series_instance_uid
    from inference.domain.finding import FindingSource

    findings = [f.evolve(score=s, source=FindingSource.AI, finding_id=f"F00{i}")
                for i, (f, s) in enumerate(zip(truth_findings(small_demo.nodules), (0.9, 0.7, 0.55), strict=False), 1)]
    store = Store(tmp_path / "store.db")
    settings = ReviewSettings(JsonBackend(tmp_path / "settings.json"))
    settings.set_reviewer("Dr Late")
    control = install_operating_point(window, SimpleNamespace(store=store, settings=settings))
    window.set_volume(volume)  # not in the store yet
    assert not control.in_store
    store.add_series(volume.info.study_instance_uid or "1.2.3", uid, "demo", actor="screening")
    store.record_screening(uid, findings, ModelInfo("nodulelens-cnn-v2", "2.0", "ab" * 32, operating_threshold=0.8),
                           flagged=True, highest_lung_rads=None, highest_risk=None)
    window.set_findings(findings)
    assert control.in_store and control.panel.point() == pytest.approx(0.8)
    assert {b.key for b in window.scene.boxes if b.dimmed} == {f.finding_id for f in findings if f.score < 0.8}
    control.panel.set_point(0.6, commit=True)
    assert operating_point(store, uid) == 0.6
    assert [a.action for a in store.audit_log(uid)].count(AUDIT_ACTION) == 1
    assert {b.key for b in window.scene.boxes if b.dimmed} == {f.finding_id for f in findings if f.score < 0.6}
    store.close()
