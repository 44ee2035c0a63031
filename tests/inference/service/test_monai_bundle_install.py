"""The MONAI lung_nodule_ct_detection bundle: architecture check, `models add`, and its runtime.

No bundle weights can be downloaded here, so the weights are a randomly initialised network of
the bundle's exact architecture, saved the way the bundle saves ``models/model.pt``.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from inference.detection import monai_bundle
from inference.detection.registry import ModelError, load_manifest
from inference.imaging.volume import Volume
from inference.service.installed import resolve_model, sha256_file
from viewer.cli import main


def _random_bundle_state(seed: int = 0) -> dict[str, torch.Tensor]:
    with torch.device("meta"):
        net = monai_bundle.build_network(monai_bundle.bundle_manifest().network)
    net.to_empty(device="cpu")
    gen = torch.Generator().manual_seed(seed)
    for name, t in net.state_dict().items():
        if name.endswith("running_var"):
            t.fill_(1.0)
        elif t.is_floating_point() and not name.endswith("running_mean"):
            t.copy_(torch.randn(t.shape, generator=gen) * 0.02)
        else:
            t.zero_()
    return net.state_dict()


@pytest.fixture(scope="module")
def bundle_weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("bundle") / "model.pt"
    torch.save(_random_bundle_state(), path)
    return path


def test_manifest_describes_the_bundle():
    m = monai_bundle.bundle_manifest()
    assert m.architecture == monai_bundle.ARCHITECTURE
    assert m.input_spacing_mm == (0.703125, 0.703125, 1.25) and m.hu_window == (-1024.0, 300.0)
    net = m.network
    assert net["backbone"]["conv1_t_stride"] == [2, 2, 1] and net["returned_layers"] == [1, 2]
    assert net["anchor_generator"]["base_anchor_shapes"] == [[6, 8, 4], [8, 6, 5], [10, 10, 6]]
    assert net["box_selector"] == {"score_thresh": 0.02, "topk_candidates_per_level": 1000,
                                   "nms_thresh": 0.22, "detections_per_img": 300}
    assert "not for diagnosis" in m.intended_use


def test_network_has_the_bundle_module_names():
    with torch.device("meta"):
        sd = monai_bundle.build_network().state_dict()
    assert "feature_extractor.body.conv1.weight" in sd
    assert tuple(sd["feature_extractor.body.conv1.weight"].shape) == (64, 1, 7, 7, 7)
    assert not any(k.startswith("feature_extractor.body.layer3") for k in sd)  # layers 1, 2 only
    assert tuple(sd["classification_head.cls_logits.weight"].shape)[0] == 3  # 3 anchors x 1 class
    assert tuple(sd["regression_head.bbox_reg.weight"].shape)[0] == 18  # 3 anchors x 6 box values


@pytest.fixture(scope="module")
def installed(bundle_weights, tmp_path_factory):
    dest_root = tmp_path_factory.mktemp("user-models")
    code = main(["models", "add", str(bundle_weights), "--as", "monai-lung-nodule",
                 "--models-dir", str(dest_root)])
    return code, dest_root


def test_models_add_verifies_and_installs_outside_the_repo(bundle_weights, installed, monkeypatch):
    code, dest_root = installed
    assert code == 0
    folder = dest_root / "monai-lung-nodule"
    assert (folder / "model.pt").read_bytes() == bundle_weights.read_bytes()
    manifest = load_manifest(folder)
    assert manifest.weights_sha256 == sha256_file(bundle_weights)
    assert manifest.verify_weights() == folder / "model.pt"
    assert json.loads((folder / "manifest.json").read_text())["installed_from"] == str(bundle_weights)
    monkeypatch.setenv("NODULELENS_USER_MODELS", str(dest_root))
    assert resolve_model("monai-lung-nodule") == str(folder)


def test_a_wrong_state_dict_is_a_typed_error_and_nothing_is_installed(bundle_weights, tmp_path, capsys):
    state = torch.load(bundle_weights, weights_only=True)
    state["classification_head.cls_logits.weight"] = torch.zeros(6, 256, 3, 3, 3)  # 2 classes
    del state["feature_extractor.fpn.layer_blocks.0.weight"]
    wrong = tmp_path / "other_model.pt"
    torch.save(state, wrong)
    with pytest.raises(ModelError) as err:
        monai_bundle.verify_state_dict(wrong)
    msg = str(err.value)
    assert str(wrong) in msg and "1 missing" in msg and "wrong shape" in msg
    code = main(["models", "add", str(wrong), "--as", "monai-lung-nodule",
                 "--models-dir", str(tmp_path / "m")])
    assert code == 2 and str(wrong) in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_a_file_that_is_not_a_state_dict_is_a_typed_error(tmp_path):
    junk = tmp_path / "model.pt"
    junk.write_bytes(b"definitely not a checkpoint")
    with pytest.raises(ModelError, match="not a PyTorch state dict"):
        monai_bundle.read_state_dict(junk)
    with pytest.raises(ModelError, match="file not found"):
        monai_bundle.read_state_dict(tmp_path / "absent.pt")


def test_resampling_to_the_bundle_grid_keeps_world_positions():
    vox = np.full((20, 30, 40), -1000, np.int16)
    vox[12, 9, 31] = 300  # one bright voxel
    vol = Volume(vox, Volume.make_affine((1.4, 1.4, 2.5), (-20.0, 5.0, -100.0)))
    manifest = monai_bundle.bundle_manifest()
    det = monai_bundle.BundleDetector.__new__(monai_bundle.BundleDetector)
    det.manifest = manifest
    img, aff = det._grid(vol)
    assert img.min() >= 0.0 and img.max() <= 1.0
    peak = np.array(np.unravel_index(np.argmax(img), img.shape), float)
    world = aff[:3, :3] @ peak + aff[:3, 3]
    truth = vol.index_to_world((12, 9, 31))
    assert np.allclose(world, truth, atol=1.3)
    assert np.allclose(np.abs(np.diag(aff[:3, :3])), (0.703125, 0.703125, 1.25))


def test_bundle_detector_runs_and_returns_world_boxes_inside_the_scan(installed):
    code, dest = installed
    manifest = dataclasses.replace(load_manifest(dest / "monai-lung-nodule"), operating_threshold=0.0)
    det = monai_bundle.BundleDetector(manifest, "cpu")
    rng = np.random.default_rng(0)
    vol = Volume(rng.integers(-1000, 200, (8, 24, 24)).astype(np.int16),
                 Volume.make_affine((1.4, 1.4, 2.5), (-30.0, -30.0, -20.0)))
    seen = []
    findings = det.detect(vol, progress=lambda f, m: seen.append(f))
    assert seen[-1] == 1.0 and findings
    assert len(findings) <= 300
    assert [f.score for f in findings] == sorted((f.score for f in findings), reverse=True)
    lo, hi = vol.world_bounds()
    centres = np.array([f.center for f in findings])
    assert np.all(centres >= lo - 10) and np.all(centres <= hi + 10)


def test_models_list_shows_repository_and_user_models(installed, capsys, monkeypatch):
    _, dest_root = installed
    monkeypatch.setenv("NODULELENS_USER_MODELS", str(dest_root))
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "classical" in out
    repo_line = next(ln for ln in out.splitlines() if ln.strip().startswith("monai-lung-nodule")
                     and "no weights" in ln)
    assert repo_line
    assert str(dest_root) in out and "sha256" in out


def test_the_repository_manifest_alone_says_how_to_install_the_weights():
    with pytest.raises(ModelError) as err:
        monai_bundle.BundleDetector.from_manifest(monai_bundle.bundle_manifest(), "cpu")
    assert "nodulelens models add" in str(err.value) and "manifest.json" in str(err.value)
