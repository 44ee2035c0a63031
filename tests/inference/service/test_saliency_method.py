"""A saliency file keeps the method that made it; a file from before methods were recorded reads as
unknown, unless the unchanged card of the model that wrote it (same manifest sha256) tells."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from inference.detection.registry import ModelError, card_saliency_method, parse_manifest
from inference.domain.finding import ModelInfo
from inference.domain.saliency import SaliencyMethod
from inference.imaging.volume import Volume
from inference.service.findings_file import InvalidFindings, load_saliency, load_saliency_map, save_saliency


def _crop() -> Volume:
    z, y, x = np.mgrid[0:4, 0:5, 0:6].astype(np.float32)
    v = np.exp(-((z - 2) ** 2 + (y - 2) ** 2 + (x - 3) ** 2) / 3.0).astype(np.float32)
    return Volume(v, Volume.make_affine((0.7, 0.7, 1.25), (10.0, 20.0, -30.0)))


def _old_file(path) -> None:
    """A saliency file as NoduleLens wrote it before the method was recorded."""
    q = np.rint(_crop().voxels * 255).astype(np.uint8)
    np.savez_compressed(path, voxels=q, affine=_crop().affine)


def _card(models, method: str | None) -> ModelInfo:
    """An installed card (naming ``method``, or no key) and the ModelInfo its findings carry."""
    folder = models / "cnn"
    folder.mkdir(parents=True, exist_ok=True)
    network = {"width": 8} | ({} if method is None else {"saliency_method": method})
    raw = json.dumps({"id": "cnn", "version": "1", "architecture": "classical-hessian-dot",
                      "operating_threshold": 0.5, "intended_use": "tests", "network": network}).encode()
    (folder / "manifest.json").write_bytes(raw)
    return ModelInfo("cnn", "1", hashlib.sha256(raw).hexdigest())


@pytest.mark.parametrize("method", [SaliencyMethod.OCCLUSION, SaliencyMethod.GRAD_CAM])
def test_the_file_keeps_the_method_that_made_the_map(tmp_path, method) -> None:
    path = save_saliency(_crop(), tmp_path / "F001.npz", method=method)
    with np.load(path, allow_pickle=False) as data:
        assert str(data["method"]) == method.value
    saved = load_saliency_map(path)
    assert saved.method is method
    assert np.allclose(saved.volume.voxels, load_saliency(path).voxels)


def test_an_old_file_without_a_method_reads_as_unknown(tmp_path) -> None:
    _old_file(tmp_path / "F001.npz")
    saved = load_saliency_map(tmp_path / "F001.npz")
    assert saved.method is SaliencyMethod.UNKNOWN and saved.method.label == "unknown method"
    assert saved.volume.shape == (4, 5, 6)


def test_an_old_file_takes_the_method_of_its_unchanged_card_only(tmp_path, monkeypatch) -> None:
    models = tmp_path / "models"
    monkeypatch.setenv("NODULELENS_MODELS_DIR", str(models))
    _old_file(tmp_path / "F001.npz")
    model = _card(models, "occlusion")
    assert load_saliency_map(tmp_path / "F001.npz", model).method is SaliencyMethod.OCCLUSION
    assert card_saliency_method(_card(models, None)) is SaliencyMethod.GRAD_CAM  # no key: Grad-CAM
    _card(models, "grad-cam")  # the card changed since the maps were written: it cannot tell
    assert load_saliency_map(tmp_path / "F001.npz", model).method is SaliencyMethod.UNKNOWN
    absent = ModelInfo("gone", "1", "cd" * 32)
    assert load_saliency_map(tmp_path / "F001.npz", absent).method is SaliencyMethod.UNKNOWN


def test_a_recorded_method_wins_over_the_card(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("NODULELENS_MODELS_DIR", str(tmp_path / "models"))
    model = _card(tmp_path / "models", "occlusion")
    path = save_saliency(_crop(), tmp_path / "F001.npz", method=SaliencyMethod.GRAD_CAM)
    assert load_saliency_map(path, model).method is SaliencyMethod.GRAD_CAM


def test_a_method_this_version_does_not_know_reads_as_unknown_and_a_bad_one_is_refused(tmp_path) -> None:
    q = np.rint(_crop().voxels * 255).astype(np.uint8)
    np.savez_compressed(tmp_path / "new.npz", voxels=q, affine=_crop().affine, method=np.asarray("lime"))
    assert load_saliency_map(tmp_path / "new.npz").method is SaliencyMethod.UNKNOWN
    np.savez_compressed(tmp_path / "bad.npz", voxels=q, affine=_crop().affine, method=np.arange(3))
    with pytest.raises(InvalidFindings) as err:
        load_saliency_map(tmp_path / "bad.npz")
    assert str(tmp_path / "bad.npz") in str(err.value) and "'method' must be one text" in str(err.value)


def test_the_card_names_one_of_two_methods(tmp_path) -> None:
    def card(network: dict):
        return parse_manifest({"id": "m", "version": "1", "architecture": "classical-hessian-dot",
                               "operating_threshold": 0.5, "intended_use": "t", "network": network}, tmp_path)

    assert card({}).saliency_method is SaliencyMethod.GRAD_CAM
    assert card({"saliency_method": "occlusion"}).saliency_method is SaliencyMethod.OCCLUSION
    for bad in ("unknown", "lime", 3):
        with pytest.raises(ModelError, match="network.saliency_method .*fix the manifest"):
            _ = card({"saliency_method": bad}).saliency_method
