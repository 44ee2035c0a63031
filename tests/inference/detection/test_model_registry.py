"""Model folders: manifests, sha256, weights that fit the architecture, the default model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from inference.detection.registry import (REPO, ModelError, default_model_id, list_models,
                                          load_manifest, sha256_file)

MODELS = REPO / "resources" / "models"


def _copy_model(tmp_path: Path, model_id: str) -> Path:
    dst = tmp_path / "models" / model_id
    shutil.copytree(MODELS / model_id, dst)
    return dst


def test_classical_manifest_is_complete() -> None:
    m = load_manifest("classical")
    assert m.architecture == "classical-hessian-dot"
    assert "not for diagnosis" in m.intended_use
    assert 0 < m.operating_threshold < 1
    info = m.model_info()
    assert info.model_id == "classical" and len(info.manifest_sha256) == 64


def test_installed_models_and_default(monkeypatch, tmp_path) -> None:
    ids = [m.model_id for m in list_models()]
    assert "classical" in ids
    monkeypatch.setenv("NODULELENS_MODELS_DIR", str(tmp_path / "models"))
    _copy_model(tmp_path, "classical")
    assert default_model_id() == "classical"  # nothing trained installed
    (tmp_path / "models" / "default").write_text("classical\n")
    assert default_model_id() == "classical"


def test_bad_manifests_raise_model_error_naming_the_file(tmp_path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    with pytest.raises(ModelError, match="no manifest.json"):
        load_manifest(folder)
    (folder / "manifest.json").write_text("{not json")
    with pytest.raises(ModelError, match=r"broken/manifest.json: not valid JSON"):
        load_manifest(folder)
    (folder / "manifest.json").write_text(json.dumps({"id": "x", "version": "1"}))
    with pytest.raises(ModelError, match="missing required key"):
        load_manifest(folder)
    base = {"id": "x", "version": "1", "operating_threshold": 0.5, "intended_use": "research"}
    (folder / "manifest.json").write_text(json.dumps({**base, "architecture": "resnet-9000"}))
    with pytest.raises(ModelError, match="unknown architecture"):
        load_manifest(folder)
    (folder / "manifest.json").write_text(json.dumps({**base, "architecture": "candidate-cnn-v1"}))
    with pytest.raises(ModelError, match="needs a 'weights' file"):
        load_manifest(folder)
    (folder / "manifest.json").write_text(json.dumps({**base, "architecture": "classical-hessian-dot",
                                                      "operating_threshold": 3}))
    with pytest.raises(ModelError, match="outside 0..1"):
        load_manifest(folder)
    with pytest.raises(ModelError, match="no model 'nope'"):
        load_manifest("nope")


def test_weights_missing_and_sha_mismatch(tmp_path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "weights.pt").write_bytes(b"some bytes")
    good = sha256_file(folder / "weights.pt")
    base = {"id": "m", "version": "1", "operating_threshold": 0.5, "intended_use": "research",
            "architecture": "candidate-cnn-v1", "weights": "weights.pt"}
    (folder / "manifest.json").write_text(json.dumps({**base, "weights_sha256": good}))
    assert load_manifest(folder).verify_weights() == folder / "weights.pt"
    (folder / "manifest.json").write_text(json.dumps({**base, "weights_sha256": "0" * 64}))
    with pytest.raises(ModelError, match="weights.pt: sha256 .* does not match"):
        load_manifest(folder).verify_weights()
    (folder / "weights.pt").unlink()
    with pytest.raises(ModelError, match="weights file weights.pt is missing"):
        load_manifest(folder).verify_weights()
