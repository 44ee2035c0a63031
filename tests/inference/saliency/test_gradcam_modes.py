"""Grad-CAM modes named by the manifest: the default channel-mean weights and HiResCAM."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from inference.domain.finding import Box3D, Finding
from inference.detection.detector import load_detector
from inference.detection.registry import REPO, ModelError, sha256_file
from inference.phantom import NoduleSpec, make_phantom
from inference.saliency.gradcam import _cams, explain

MODEL_DIR = REPO / "resources" / "models" / "nodulelens-cnn-v2"


def test_hires_and_grad_cam_differ_and_stay_in_range() -> None:
    torch.set_num_threads(2)
    det = load_detector(MODEL_DIR, "cpu")
    x = np.random.default_rng(0).uniform(0, 1, (2, 2, 24, 24, 24)).astype(np.float32)
    a = _cams(det.net, x, "cpu", "features.block2", "grad-cam")
    b = _cams(det.net, x, "cpu", "features.block2", "hires")
    assert a.shape == b.shape == (2, 24, 24, 24)
    for m in (a, b):
        assert m.min() >= 0.0 and m.max() <= 1.0 + 1e-6
    assert not np.allclose(a, b)


def test_unknown_mode_names_the_manifest(tmp_path) -> None:
    folder = tmp_path / "m"
    shutil.copytree(MODEL_DIR, folder, ignore=shutil.ignore_patterns("evaluation"))
    m = json.loads((folder / "manifest.json").read_text())
    m["network"]["gradcam_mode"] = "guided"
    (folder / "manifest.json").write_text(json.dumps(m))
    assert m["weights_sha256"] == sha256_file(folder / "weights.pt")
    det = load_detector(folder, "cpu")
    p = make_phantom(2, shape_zyx=(96, 96, 96), spacing_zyx=(1.0, 1.0, 1.0),
                     nodules=[NoduleSpec(None, 8.0)])
    c = tuple(p.nodules[0].center)
    with pytest.raises(ModelError, match="gradcam_mode 'guided'.*fix the manifest"):
        explain(det, p.volume, [Finding("F001", c, Box3D.around(c, 8.0), 0.9)])
