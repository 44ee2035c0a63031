"""What the reader sees: on each real LIDC nodule, at the viewer's default settings, the heat
colours cover most of the nodule's in-plane area on its key slice.

Per nodule (LIDC-IDRI-0001: the LUNA16 nodule; LIDC-IDRI-0002: the ground-glass nodule of
annotations_excluded.csv): the worker's segmentation (``inference.nodules.analyze``) gives the mask
and box, the model card's saliency method (occlusion sensitivity for nodulelens-cnn-v2) the map.
The scene renders the 2x2 layout offscreen at default opacity with the finding selected; on the
axial view at the key slice (largest mask area) a pixel counts as heat-coloured when it has
colour (max - min of RGB >= 40) that the plain render has not; pixels under the box lines are left
out of the nodule's area (the reader sees the box there). The screenshots go to tmp_path.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

REFERENCES = {"lidc1": (56.21, 86.34, -115.87), "lidc2": (59.8, 71.5, -104.1)}
SIZE = 512
MIN_COVERAGE = 0.5  # "most" of the nodule's area


@pytest.fixture(scope="module")
def detector():
    import torch

    from inference.detection.detector import load_detector

    torch.set_num_threads(2)
    warnings.filterwarnings("ignore", category=UserWarning, module="monai")
    return load_detector("nodulelens-cnn-v2", "cpu")


def _pixel_world(view, shape: tuple[int, int]) -> np.ndarray:
    """(h, w, 3) world point of each pixel of a grabbed image (rows from the top)."""
    h, w = shape
    o = view.display_to_world(0.0, 0.0)
    ex = view.display_to_world(1.0, 0.0) - o
    ey = view.display_to_world(0.0, 1.0) - o
    rows, cols = np.mgrid[0:h, 0:w]
    y = (h - 1 - rows).astype(float)
    return o + cols[..., None] * ex + y[..., None] * ey


def _heat_coverage(view, bare: np.ndarray, plain: np.ndarray, shown: np.ndarray, volume, mask: np.ndarray,
                   z: int) -> float:
    """Heat-coloured fraction of the nodule's pixels that the box lines leave visible."""
    world = _pixel_world(view, plain.shape[:2]).reshape(-1, 3)
    idx = np.rint(volume.world_to_index(world)).astype(int)
    ok = np.all((idx >= 0) & (idx < volume.shape), axis=1) & (idx[:, 0] == z)
    on_nodule = np.zeros(len(idx), bool)
    on_nodule[ok] = mask[tuple(idx[ok].T)]
    on_nodule = on_nodule.reshape(plain.shape[:2]) & (np.abs(plain.astype(int) - bare).max(axis=2) <= 10)
    chroma = shown.max(axis=2).astype(int) - shown.min(axis=2)
    changed = np.abs(shown.astype(int) - plain).max(axis=2) > 10
    heat = (chroma >= 40) & changed
    assert on_nodule.sum() >= 20, "the nodule covers too few pixels to measure"
    return float(heat[on_nodule].mean())


@pytest.mark.parametrize("scan", sorted(REFERENCES))
def test_heat_covers_most_of_the_nodule(scan, request, detector, tmp_path) -> None:
    from inference.domain.finding import Finding
    from inference.imaging import load
    from inference.nodules import analyze
    from inference.saliency.explain import explain
    from viewer.scene.capture import compose, grab, offscreen_window, write_png
    from viewer.scene.overlays2d import BoxOverlay
    from viewer.scene.scene import Scene
    from viewer.scene.scheduler import ImmediateRenderer

    volume = load(request.getfixturevalue(scan))
    result = analyze(volume, REFERENCES[scan])
    mask = result.full_mask(volume.shape)
    z = int(np.argmax(mask.sum(axis=(1, 2))))
    key = np.argwhere(mask[z]).mean(axis=0)
    centre = tuple(float(c) for c in volume.index_to_world((z, *key)))
    box = result.world_box(volume)
    finding = Finding("F001", tuple(float(c) for c in REFERENCES[scan]), box, 0.9)
    saliency = explain(detector, volume, [finding])["F001"]

    windows = {n: offscreen_window(SIZE, SIZE) for n in ("axial", "coronal", "sagittal", "3d")}
    try:
        scene = Scene(windows, ImmediateRenderer())
        scene.set_volume(volume)
        scene.view3d.set_interactive(False)
        scene.set_cursor(centre)
        bare = grab(windows["axial"]).astype(int)
        scene.set_boxes([BoxOverlay("F001", box.lo, box.hi)])
        scene.select("F001")
        scene.set_cursor(centre)  # the key slice
        axial = scene.views["axial"]
        plain = grab(windows["axial"])
        plain3d = grab(windows["3d"]).astype(int)
        scene.set_saliency_maps({"F001": saliency})  # the selected finding's map is drawn
        assert scene.saliency is saliency
        images = {n: grab(w) for n, w in windows.items()}
        write_png(compose("2x2", images), tmp_path / f"saliency-{scan}.png")
        coverage = _heat_coverage(axial, bare, plain.astype(int), images["axial"], volume, mask, z)
        print(f"{scan}: heat covers {coverage:.2f} of the nodule's {int(mask[z].sum())} voxels on slice {z}")
        assert coverage >= MIN_COVERAGE, f"heat colours cover only {coverage:.0%} of the nodule"
        # the 3D view shows the map too (heat-coloured pixels that were not there before)
        shown3d = images["3d"].astype(int)
        heat3d = ((shown3d.max(axis=2) - shown3d.min(axis=2)) >= 60) & (np.abs(shown3d - plain3d).max(axis=2) > 30)
        assert heat3d.sum() >= 30, f"only {heat3d.sum()} heat pixels in 3D"
        # H (visibility) and opacity 0 take it away everywhere
        scene.set_saliency_visible(False)
        assert np.abs(grab(windows["axial"]).astype(int) - plain).max() <= 2
        assert not scene.view3d.saliency.actor.GetVisibility()
        scene.set_saliency_visible(True)
        scene.set_saliency_opacity(0.0)
        assert np.abs(grab(windows["axial"]).astype(int) - plain).max() <= 2
    finally:
        for w in windows.values():
            w.Finalize()
