"""Grad-CAM per finding with the shipped candidate CNN, on phantoms (CPU, a few crops each)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inference.domain.finding import Box3D, Finding
from inference.detection.network import build
from inference.detection.detector import load_detector
from inference.detection.pipeline import CandidateCnnDetector
from inference.phantom import NoduleSpec, make_phantom
from inference.saliency.gradcam import explain

MODEL = "nodulelens-cnn-v2"
SHAPE, SPACING, SEED = (112, 112, 112), (1.0, 1.0, 1.0), 3


@pytest.fixture(scope="module")
def detector() -> CandidateCnnDetector:
    torch.set_num_threads(2)
    det = load_detector(MODEL, device="cpu")
    assert isinstance(det, CandidateCnnDetector) and det.explains
    return det


@pytest.fixture(scope="module")
def placed():
    """A phantom with one 10 mm solid nodule, and the centre the phantom chose for it."""
    p = make_phantom(SEED, shape_zyx=SHAPE, spacing_zyx=SPACING, nodules=[NoduleSpec(None, 10.0)])
    return p, np.asarray(p.nodules[0].center)


def _world_of(vol) -> np.ndarray:
    idx = np.indices(vol.shape).reshape(3, -1).T.astype(float)
    return vol.index_to_world(idx)


def _mass_inside(vol, box: Box3D) -> float:
    w = _world_of(vol)
    inside = np.all((w >= box.lo) & (w <= box.hi), axis=1)
    v = vol.voxels.reshape(-1).astype(float)
    return float(v[inside].sum() / max(v.sum(), 1e-12))


def _centre_of_mass(vol) -> np.ndarray:
    w = _world_of(vol)
    v = vol.voxels.reshape(-1).astype(float)
    return (w * v[:, None]).sum(0) / v.sum()


def test_map_is_on_the_scan_grid_and_concentrated_in_the_box(detector, placed) -> None:
    p, centre = placed
    found = detector.candidates(p.volume)
    dist = [np.linalg.norm(np.asarray(f.center) - centre) for f in found]
    top = found[int(np.argmin(dist))]  # the candidate on the nodule
    assert min(dist) <= 5.0
    batch = [top] + [f for f in found[:3] if f is not top]
    maps = explain(detector, p.volume, batch)
    assert set(maps) == {f.finding_id for f in batch}
    m = maps[top.finding_id]
    assert m.voxels.dtype == np.float32 and m.voxels.min() >= 0.0 and m.voxels.max() <= 1.0
    assert m.voxels.max() == pytest.approx(1.0, abs=0.05)
    assert np.allclose(m.affine[:3, :3], p.volume.affine[:3, :3])
    # the crop's voxels sit on the scan's voxel centres
    off = p.volume.world_to_index(m.index_to_world((0, 0, 0)))
    assert np.allclose(off, np.rint(off), atol=1e-6)
    assert _mass_inside(m, top.box.scaled(1.5)) >= 0.60


def test_randomised_weights_change_the_map(detector, placed) -> None:
    p, centre = placed
    f = Finding("F001", tuple(centre), Box3D.around(tuple(centre), 10.0), 0.9)
    trained = explain(detector, p.volume, [f])["F001"].voxels.ravel()
    torch.manual_seed(0)
    rand_net = build(detector.manifest.network).eval()
    randomised = CandidateCnnDetector(detector.manifest, "cpu", rand_net)
    rand = explain(randomised, p.volume, [f])["F001"].voxels.ravel()
    r = np.corrcoef(trained, rand)[0, 1] if rand.std() > 0 else 0.0
    assert trained.std() > 0
    assert r < 0.5, f"randomised-model map correlates {r:.2f} with the trained one"


def test_map_follows_the_nodule_when_it_moves(detector, placed) -> None:
    _, centre = placed
    fixed = tuple(centre)
    f = Finding("F001", fixed, Box3D.around(fixed, 10.0), 0.9)
    coms = []
    for dx in (-4.0, 4.0):
        moved = make_phantom(SEED, shape_zyx=SHAPE, spacing_zyx=SPACING,
                             nodules=[NoduleSpec(tuple(centre + (dx, 0.0, 0.0)), 10.0)])
        coms.append(_centre_of_mass(explain(detector, moved.volume, [f])["F001"]))
    shift = coms[1] - coms[0]
    assert shift[0] >= 3.0, f"map moved {shift} mm for a nodule moved 8 mm in x"
    assert abs(shift[1]) < shift[0] and abs(shift[2]) < shift[0]


def test_classical_baseline_has_nothing_to_explain(placed) -> None:
    p, centre = placed
    f = Finding("F001", tuple(centre), Box3D.around(tuple(centre), 10.0), 0.9)
    assert explain(load_detector("classical", "cpu"), p.volume, [f]) == {}
