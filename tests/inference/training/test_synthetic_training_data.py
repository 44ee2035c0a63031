"""Synthetic nodules and chests, training patches (reserved regions never sampled), and a tiny
seeded training run that writes a loadable model folder."""

from __future__ import annotations

import json

import numpy as np
import pytest

from inference.detection.registry import load_manifest, sha256_file
from inference.training.dataset import Background, scan_patches
from inference.training.synth_chest import EVAL_SEEDS, TRAIN_SEEDS, make_synth_chest
from inference.domain.nodule import NoduleType
from inference.training.synth_nodules import SynthNodule, render


def test_train_and_eval_seeds_are_disjoint() -> None:
    assert not set(TRAIN_SEEDS) & set(EVAL_SEEDS)


@pytest.mark.parametrize("kind,lo,hi", [(NoduleType.SOLID, -120, 140), (NoduleType.GROUND_GLASS, -820, -380)])
def test_rendered_nodule_occupancy_and_density(kind, lo, hi) -> None:
    nod = SynthNodule((10.0, -5.0, 3.0), 12.0, kind, seed=4)
    pts = np.array([[10.0, -5.0, 3.0], [10.0, -5.0, 3.0 + 20.0]])
    occ, hu = render(nod, pts)
    assert occ[0] > 0.99 and occ[1] < 0.01
    assert lo <= hu[0] <= hi
    with pytest.raises(ValueError, match="diameter"):
        SynthNodule((0, 0, 0), 0.5, NoduleType.SOLID, 1)


@pytest.fixture(scope="module")
def chest():
    return make_synth_chest(5001, size=96, n_nodules=(2, 2), d_range=(6.0, 12.0))


def test_synth_chest_has_lungs_and_its_nodules(chest) -> None:
    v = chest.volume
    assert v.voxels.dtype == np.int16 and v.shape == (96, 96, 96)
    assert chest.lungs.mean() > 0.1
    assert len(chest.nodules) == 2
    for n in chest.nodules:
        idx = np.rint(v.world_to_index(n.center)).astype(int)
        assert v.voxels[tuple(idx)] > -700  # denser than lung at the centre


def test_patches_keep_out_of_reserved_regions(chest) -> None:
    centre = np.asarray(chest.nodules[0].center)
    bg = Background("test", chest.volume, (), ((tuple(centre), 25.0),))
    rng = np.random.default_rng(0)
    X, y, tags, centres = scan_patches(bg, rng, n_inserted=10, n_hard=20, n_random=10, per_true=1)
    assert len(X) == len(y) == len(tags) == len(centres) > 10
    assert X[0].shape == (2, 24, 24, 24) and X[0].dtype == np.uint8
    d = np.linalg.norm(np.asarray(centres) - centre, axis=1)
    assert d.min() > 25.0 - 2.5  # hard-negative jitter is 0.7 mm s.d.
    assert sum(y) >= 1 and any(t.startswith("hard-negative") for t in tags)


@pytest.mark.slow
def test_tiny_seeded_training_run_writes_a_loadable_model(tmp_path) -> None:
    from inference.detection.detector import load_detector
    from inference.training.train import train

    out = tmp_path / "tiny-model"
    info = train(out, seed=3, data_root=None, n_synth=1, epochs=1, log=lambda m: None)
    m = load_manifest(out)
    assert m.weights_sha256 == sha256_file(out / "weights.pt")
    assert m.intended_use.startswith("research; not for diagnosis")
    data = json.loads((out / "manifest.json").read_text())
    assert data["training_data"]["synthetic_chests"].startswith("inference.training.synth_chest seeds 1000-1000")
    assert (out / "training_log.csv").read_text().startswith("epoch,train_loss,val_loss,val_auc")
    assert (out / "training_curves.png").stat().st_size > 1000
    assert info["patches"] > 50
    det = load_detector(out, device="cpu")
    assert det.net is not None and det.threshold == m.operating_threshold
