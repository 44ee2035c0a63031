"""The shipped candidate CNN behind the Detector API: loading, wrong weights, scoring a phantom."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from inference.detection.network import build
from inference.detection.detector import load_detector, pick_device
from inference.detection.registry import REPO, ModelError, default_model_id, sha256_file
from inference.phantom import NoduleSpec, make_phantom

SHIPPED = "nodulelens-cnn-v2"
MODEL_DIR = REPO / "resources" / "models" / SHIPPED


def test_shipped_model_loads_and_is_the_default() -> None:
    det = load_detector(None, device="cpu")
    assert det.model_info.model_id == default_model_id() == SHIPPED
    assert det.net is not None and not det.net.training
    assert MODEL_DIR.joinpath("weights.pt").stat().st_size <= 20 * 1024 * 1024
    assert pick_device("auto") in ("cuda", "mps", "cpu")
    with pytest.raises(ModelError, match="unknown device"):
        pick_device("tpu")


def test_weights_of_another_architecture_raise_model_error(tmp_path) -> None:
    folder = tmp_path / "wrong"
    shutil.copytree(MODEL_DIR, folder)
    torch.save(build({"width": 4}).state_dict(), folder / "weights.pt")
    m = json.loads((folder / "manifest.json").read_text())
    m["weights_sha256"] = sha256_file(folder / "weights.pt")
    (folder / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ModelError, match="weights.pt: weights do not fit architecture"):
        load_detector(folder, device="cpu")


def test_scores_a_phantom_nodule_above_the_background(tmp_path) -> None:
    p = make_phantom(21, shape_zyx=(112, 112, 112), spacing_zyx=(1.0, 1.0, 1.0),
                     nodules=[NoduleSpec(None, 12.0)])
    det = load_detector(SHIPPED, device="cpu")
    found = det.candidates(p.volume)
    truth = p.nodules[0]
    hits = [f for f in found if np.linalg.norm(np.asarray(f.center) - truth.center) <= 6.0]
    assert hits, "no candidate on the nodule"
    best = max(f.score for f in hits)
    others = sorted((f.score for f in found if f not in hits), reverse=True)
    assert best > np.median(others)
    assert [f.score for f in found] == sorted((f.score for f in found), reverse=True)


@pytest.mark.slow
def test_lidc_reference_nodule_first_and_lidc2_at_most_one_fp(lidc1, lidc2) -> None:
    from inference.training.scans import read_scan

    det = load_detector(SHIPPED, device="cpu")
    top = det.candidates(read_scan(lidc1))[0]
    assert np.linalg.norm(np.asarray(top.center) - (56.21, 86.34, -115.87)) <= 23.35 / 2
    excluded_ggo = np.array([59.8, 71.5, -104.1])
    fps = [f for f in det.detect(read_scan(lidc2))
           if np.linalg.norm(np.asarray(f.center) - excluded_ggo) > 12.0]
    assert len(fps) <= 1
