"""Saliency maps come back from a real worker as files: a randomly initialised candidate CNN
(the network the built-in model trains), so Grad-CAM has a network to explain. Each file records
the method its card named: Grad-CAM (no ``saliency_method``) or occlusion sensitivity."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

from inference.detection.network import build
from inference.detection.registry import sha256_file
from inference.service.client import InferenceClient
from inference.domain.saliency import SaliencyMethod
from inference.service.findings_file import load_saliency, load_saliency_map
from service_scans import small_chest


def _card(root, name: str, network: dict):
    folder = root / name
    folder.mkdir()
    torch.manual_seed(0)
    torch.save(build({"in_channels": 2, "width": 8}).state_dict(), folder / "weights.pt")
    (folder / "manifest.json").write_text(json.dumps({
        "id": name, "version": "test", "architecture": "candidate-cnn-v1",
        "weights": "weights.pt", "weights_sha256": sha256_file(folder / "weights.pt"),
        "network": {"in_channels": 2, "width": 8, **network}, "hu_window": [-1000, 400],
        "patch_size": [24, 24, 24], "candidate_generator": {"min_response": 0.005, "max_candidates": 8},
        "operating_threshold": 0.0, "intended_use": "tests only"}))
    return folder


@pytest.fixture(scope="module")
def cnn_model(tmp_path_factory):
    return _card(tmp_path_factory.mktemp("models"), "random-cnn", {})  # no saliency_method: Grad-CAM


@pytest.fixture(scope="module")
def client(cnn_model):
    c = InferenceClient(model=str(cnn_model), device="cpu", torch_threads=1)
    yield c
    c.close()


def test_saliency_files_come_back_for_the_top_findings(client, tmp_path):
    volume, _ = small_chest()
    out = tmp_path / "saliency"
    reply = client.detect(volume, saliency_dir=out, saliency_top=3, analyze=False)
    assert reply.model.model_id == "random-cnn" and len(reply.findings) >= 3
    files = reply.saliency
    assert list(files) == [f.finding_id for f in reply.findings[:3]]
    for fid, path in files.items():
        assert path.startswith(str(out)) and path.endswith(f"{fid}.npz")
        sal = load_saliency(path)
        assert load_saliency_map(path).method is SaliencyMethod.GRAD_CAM  # what the card named
        assert sal.voxels.dtype == np.float32
        assert sal.voxels.min() >= 0.0 and sal.voxels.max() <= 1.0
        centre = next(f.center for f in reply.findings if f.finding_id == fid)
        lo, hi = sal.world_bounds()
        assert np.all(lo - 1 <= centre) and np.all(centre <= hi + 1)  # the crop surrounds its finding
    assert "saliency" in reply.timing


def test_temporary_saliency_files_are_removed_on_close(client):
    volume, _ = small_chest()
    reply = client.detect(volume, saliency_top=2, analyze=False)
    paths = list(reply.saliency.values())
    assert paths and all(np.load(p)["voxels"].dtype == np.uint8 for p in paths)
    client.close()
    assert not any(os.path.exists(p) for p in paths)


def test_a_card_naming_occlusion_gets_maps_labelled_occlusion(tmp_path):
    card = _card(tmp_path, "random-cnn-occlusion", {"saliency_method": "occlusion"})
    volume, _ = small_chest()
    with InferenceClient(model=str(card), device="cpu", torch_threads=1) as client:
        reply = client.detect(volume, saliency_dir=tmp_path / "maps", saliency_top=1, analyze=False)
    ((_, path),) = reply.saliency.items()
    saved = load_saliency_map(path)
    assert saved.method is SaliencyMethod.OCCLUSION and saved.volume.voxels.max() > 0
