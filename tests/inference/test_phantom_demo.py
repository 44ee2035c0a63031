"""``nodulelens demo``: the demo phantom as a DICOM series plus truth.json and annotations.csv."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import SimpleITK as sitk

from inference.imaging import load
from inference.phantom import SMALL_SHAPE_ZYX, demo_phantom
from viewer.cli import main


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out), "--size", "small"]) == 0
    return out


def test_series_reloads_with_identical_voxels_and_geometry(demo_out):
    expected = demo_phantom(SMALL_SHAPE_ZYX).volume
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(demo_out / "dicom")))
    reader.SetOutputPixelType(sitk.sitkInt16)
    img = reader.Execute()
    assert np.array_equal(sitk.GetArrayFromImage(img), expected.voxels)
    assert np.allclose(img.GetOrigin(), expected.origin, atol=1e-4)
    assert np.allclose(img.GetSpacing(), expected.spacing_xyz, atol=1e-4)
    vol = load(demo_out / "dicom")
    assert np.array_equal(vol.voxels, expected.voxels)
    assert np.allclose(vol.affine, expected.affine, atol=1e-4)


def test_truth_and_luna_csv_describe_the_nodules(demo_out):
    truth = json.loads((demo_out / "truth.json").read_text())
    ph = demo_phantom(SMALL_SHAPE_ZYX)
    assert [n["id"] for n in truth["nodules"]] == [n.nodule_id for n in ph.nodules]
    for got, n in zip(truth["nodules"], ph.nodules, strict=True):
        assert got["center_lps_mm"] == pytest.approx(n.center, abs=1e-3)
        assert got["volume_mm3"] == pytest.approx(n.volume_mm3, abs=1e-3)
        assert got["type"] == n.nodule_type.value and got["attachment"] == n.attachment.value
    rows = list(csv.DictReader((demo_out / "annotations.csv").open()))
    assert list(rows[0]) == ["seriesuid", "coordX", "coordY", "coordZ", "diameter_mm"]
    vol = load(demo_out / "dicom")
    assert {r["seriesuid"] for r in rows} == {vol.info.series_instance_uid}
    assert truth["series_instance_uid"] == vol.info.series_instance_uid
    for r, n in zip(rows, ph.nodules, strict=True):
        centre = (float(r["coordX"]), float(r["coordY"]), float(r["coordZ"]))
        # the LUNA16 centre points into the nodule on the reloaded scan
        k = tuple(np.rint(vol.world_to_index(centre)).astype(int))
        assert n.full_mask(vol.shape)[k]
        assert float(r["diameter_mm"]) == n.diameter_mm


def test_existing_series_is_refused_with_a_one_line_error(demo_out, capsys):
    assert main(["demo", "--out", str(demo_out), "--size", "small"]) == 2
    err = capsys.readouterr().err
    assert "already holds DICOM files" in err and "Traceback" not in err


def test_seed_gives_another_phantom_with_the_same_nodule_kinds(tmp_path):
    assert main(["demo", "--out", str(tmp_path), "--size", "small", "--seed", "3"]) == 0
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert truth["seed"] == 3
    assert [n["type"] for n in truth["nodules"]] == ["solid", "solid", "part-solid",
                                                     "ground-glass", "solid"]


def test_bad_seed_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["demo", "--out", str(tmp_path), "--seed", "-4"])
    assert e.value.code == 2 and "non-negative integer" in capsys.readouterr().err
