"""``nodulelens detect`` on a scan the loader warns about: every warning on stderr and in the
findings file (a real worker, a real MetaImage file whose values go beyond int16)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from inference.phantom import SMALL_SHAPE_ZYX, SMALL_SPACING_ZYX, make_phantom
from inference.service.findings_file import InvalidFindings, read_findings, write_findings
from viewer.cli import main



@pytest.fixture(scope="module")
def hot_scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A phantom chest as float32 MetaImage with a few voxels of 40000 (a metal streak the
    loader clips to 32767 and says so)."""
    ph = make_phantom(3, SMALL_SHAPE_ZYX, SMALL_SPACING_ZYX, nodules=[], noise_hu=0.0)
    voxels = np.asarray(ph.volume.voxels, dtype=np.float32)
    voxels[5, 10, 10:14] = 40000.0
    img = sitk.GetImageFromArray(voxels)
    img.SetSpacing(ph.volume.spacing_xyz)
    img.SetOrigin(ph.volume.origin)
    path = tmp_path_factory.mktemp("hot") / "hot.mha"
    sitk.WriteImage(img, str(path))
    return path


def test_detect_prints_each_loader_warning_and_writes_it_into_the_findings_file(
        hot_scan: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from inference.imaging import load
    from inference.imaging.coverage import lungs_cut_off
    from inference.imaging.extent import check_lungs
    from inference.imaging.lung_mask import lung_mask

    warned = load(hot_scan).info.warnings  # what the loader says, word for word
    assert any("40000" in w and "clipped" in w for w in warned), warned
    out = tmp_path / "findings.json"
    code = main(["detect", str(hot_scan), "--out", str(out), "--model", "classical", "--device", "cpu",
                 "--threads", "1", "--no-analysis"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    # then the worker's own: this small phantom holds ~850 mL of lung, less than a whole chest (and
    # whether its slices stop inside the lungs is the coverage check's to say)
    vol = load(hot_scan)
    mask = lung_mask(vol)
    partial = check_lungs(vol, mask)
    assert partial is not None and partial.startswith("only ")
    every = (*warned, *(w for w in (partial, lungs_cut_off(vol, mask)) if w))
    err_lines = captured.err.splitlines()
    assert all(f"WARNING: {hot_scan}: {w}" in err_lines for w in every), captured.err
    assert f"{len(every)} WARNING(S) about this scan or its result" in captured.out
    assert json.loads(out.read_text())["warnings"] == list(every)
    assert read_findings(out).warnings == every


def test_a_findings_file_without_warnings_still_reads_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    from inference.domain.finding import ModelInfo
    from inference.service.findings_file import ScanFindings

    path = write_findings(ScanFindings((), ModelInfo("m", "1", "ab" * 32), 0.5, series_instance_uid="1.2"),
                          tmp_path / "old.json")
    doc = json.loads(path.read_text())
    assert doc["warnings"] == []
    del doc["warnings"]  # a file written before the field existed
    path.write_text(json.dumps(doc))
    assert read_findings(path).warnings == ()
    doc["warnings"] = "clipped"
    path.write_text(json.dumps(doc))
    with pytest.raises(InvalidFindings, match="'warnings' must be a list of texts") as err:
        read_findings(path)
    assert str(path) in str(err.value)
