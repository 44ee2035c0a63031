"""Occlusion sensitivity (the shipped model's saliency method) passes the same faithfulness checks
as Grad-CAM: mass inside the box, a randomised network gives another map, the map follows a moved
nodule. Phantom: one 10 mm solid nodule (CPU, one finding per call)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from inference.domain.finding import Box3D, Finding
from inference.detection.network import build
from inference.detection.detector import load_detector
from inference.detection.pipeline import CandidateCnnDetector
from inference.detection.registry import ModelError
from inference.phantom import NoduleSpec, make_phantom
from inference.saliency.explain import explain
from inference.saliency.occlusion import explain_occlusion

MODEL = "nodulelens-cnn-v2"
SHAPE, SPACING, SEED = (112, 112, 112), (1.0, 1.0, 1.0), 3


@pytest.fixture(scope="module")
def detector() -> CandidateCnnDetector:
    torch.set_num_threads(2)
    warnings.filterwarnings("ignore", category=UserWarning, module="monai")
    return load_detector(MODEL, device="cpu")


@pytest.fixture(scope="module")
def placed():
    p = make_phantom(SEED, shape_zyx=SHAPE, spacing_zyx=SPACING, nodules=[NoduleSpec(None, 10.0)])
    c = np.asarray(p.nodules[0].center)
    return p, c, Finding("F001", tuple(c), Box3D.around(tuple(c), 10.0), 0.9)


@pytest.fixture(scope="module")
def trained_map(detector, placed):
    p, _, f = placed
    return explain_occlusion(detector, p.volume, [f])["F001"]


def _world_and_values(vol) -> tuple[np.ndarray, np.ndarray]:
    idx = np.indices(vol.shape).reshape(3, -1).T.astype(float)
    return vol.index_to_world(idx), vol.voxels.reshape(-1).astype(float)


def test_the_card_names_occlusion_and_the_map_covers_the_context_on_the_scan_grid(detector, placed,
                                                                                   trained_map) -> None:
    p, _, f = placed
    assert detector.manifest.network["saliency_method"] == "occlusion"
    via_card = explain(detector, p.volume, [f])["F001"]
    assert np.array_equal(via_card.voxels, trained_map.voxels)
    m = trained_map
    assert m.voxels.dtype == np.float32 and m.voxels.min() >= 0.0 and m.voxels.max() == pytest.approx(1.0, abs=0.05)
    assert np.allclose(m.affine[:3, :3], p.volume.affine[:3, :3])
    assert min(m.shape) >= 46  # the 48 mm cube the network's coarse channel sees, not only 24 mm


def test_mass_is_concentrated_in_the_box(placed, trained_map) -> None:
    _, _, f = placed
    w, v = _world_and_values(trained_map)
    box = f.box.scaled(1.5)
    inside = np.all((w >= box.lo) & (w <= box.hi), axis=1)
    assert v[inside].sum() / v.sum() >= 0.6


def test_randomised_weights_change_the_map(detector, placed, trained_map) -> None:
    p, _, f = placed
    torch.manual_seed(0)
    randomised = CandidateCnnDetector(detector.manifest, "cpu", build(detector.manifest.network).eval())
    rand = explain_occlusion(randomised, p.volume, [f])["F001"].voxels.ravel()
    r = np.corrcoef(trained_map.voxels.ravel(), rand)[0, 1] if rand.std() > 0 else 0.0
    assert r < 0.5, f"randomised-model map correlates {r:.2f} with the trained one"


def test_map_follows_the_nodule_when_it_moves(detector, placed) -> None:
    _, centre, f = placed
    coms = []
    for dx in (-4.0, 4.0):
        moved = make_phantom(SEED, shape_zyx=SHAPE, spacing_zyx=SPACING,
                             nodules=[NoduleSpec(tuple(centre + (dx, 0.0, 0.0)), 10.0)])
        w, v = _world_and_values(explain_occlusion(detector, moved.volume, [f])["F001"])
        coms.append((w * v[:, None]).sum(0) / v.sum())
    shift = coms[1] - coms[0]
    assert shift[0] >= 3.0, f"map moved {shift} mm for a nodule moved 8 mm in x"
    assert abs(shift[1]) < shift[0] and abs(shift[2]) < shift[0]


def test_unknown_method_names_the_manifest(detector, placed) -> None:
    import dataclasses

    p, _, f = placed
    bad = dataclasses.replace(detector.manifest, network={**detector.manifest.network, "saliency_method": "lime"})
    with pytest.raises(ModelError, match="saliency_method 'lime'.*fix the manifest"):
        explain(CandidateCnnDetector(bad, "cpu", detector.net), p.volume, [f])


def test_a_cancel_lands_within_one_batch_of_a_finding(detector, placed) -> None:
    from inference.domain.progress import Cancelled
    from inference.saliency.occlusion import GRID_BATCH, MASK_MM, STRIDE_MM

    p, _, f = placed
    calls: list[float] = []
    with pytest.raises(Cancelled):
        explain_occlusion(detector, p.volume, [f], progress=lambda frac, _m: calls.append(frac),
                          cancelled=lambda: len(calls) >= 2)
    starts = list(range(0, 48 - MASK_MM + 1, STRIDE_MM))
    n_positions = (len(starts) + (starts[-1] != 48 - MASK_MM)) ** 3  # the last occluder sits flush
    assert calls == [0.0, GRID_BATCH / n_positions]  # stopped after one batch, not the finding's last
