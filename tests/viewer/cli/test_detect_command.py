"""``nodulelens detect``: a real worker process on a small phantom scan, a real findings file."""

from __future__ import annotations

import json

import numpy as np

from inference.service.findings_file import read_findings
from viewer.cli import main


def test_detect_writes_a_valid_findings_file_that_finds_the_nodule(phantom_file, tmp_path, capsys):
    path, truth = phantom_file
    out = tmp_path / "out" / "findings.json"
    code = main(["detect", str(path), "--out", str(out), "--model", "classical", "--device", "cpu",
                 "--threads", "1"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "detect: 100%" in captured.err  # the progress bar (not a tty: one line per 10 %)
    scan = read_findings(out)
    assert scan.model.model_id == "classical" and scan.device == "cpu"
    assert scan.source == str(path)
    assert {"load_model", "read", "detect"} <= set(dict(scan.timings))
    dists = [np.linalg.norm(np.subtract(f.center, truth.center)) for f in scan.findings]
    assert dists and min(dists) <= truth.diameter_mm / 2, (truth.center, scan.findings[:3])
    found = scan.findings[int(np.argmin(dists))]
    assert found.analysis is not None  # measurement, type, risk, Lung-RADS came back and were read
    assert abs(found.analysis.measurement.mean_diameter_mm - truth.diameter_mm) < truth.diameter_mm / 2
    assert all(f.score >= scan.threshold for f in scan.findings)
    assert json.loads(out.read_text())["schema"] == "nodulelens.findings"
    assert f"{len(scan.findings)} finding(s)" in captured.out


def test_detect_on_a_missing_scan_is_one_line_and_status_2(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    code = main(["detect", str(missing), "--out", str(tmp_path / "f.json"), "--model", "classical",
                 "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2
    assert str(missing) in err and "Traceback" not in err
    assert not (tmp_path / "f.json").exists()


def test_detect_with_an_unknown_model_is_status_2(tmp_path, capsys):
    code = main(["detect", str(tmp_path), "--out", str(tmp_path / "f.json"), "--model", "no-such-model",
                 "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and "no-such-model" in err


def test_detect_on_two_slices_is_too_little_chest_status_2(tmp_path, capsys):
    import SimpleITK as sitk

    vox = np.random.default_rng(2).normal(-850, 20, (2, 96, 96)).astype(np.int16)
    img = sitk.GetImageFromArray(vox)
    img.SetSpacing((0.7, 0.7, 1.25))
    path = tmp_path / "two-slices.nii"
    sitk.WriteImage(img, str(path))
    out = tmp_path / "f.json"
    code = main(["detect", str(path), "--out", str(out), "--model", "classical", "--device", "cpu",
                 "--threads", "1"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{path}: too little of the chest to screen: the volume is 2 × 96 × 96 voxels" in err
    assert "Traceback" not in err and "gradient" not in err
    assert not out.exists()
