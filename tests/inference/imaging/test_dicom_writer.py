"""write_series: valid CT Image Storage files that read back to the same voxels and geometry."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from inference.imaging import load
from inference.imaging.dicom_writer import DicomWriteError, write_series
from inference.imaging.volume import Volume
from inference.phantom import SMALL_SHAPE_ZYX, demo_phantom


@pytest.fixture(scope="module")
def phantom_volume() -> Volume:
    return demo_phantom(SMALL_SHAPE_ZYX).volume


@pytest.fixture(scope="module")
def written(phantom_volume, tmp_path_factory):
    out = tmp_path_factory.mktemp("series")
    return out, write_series(phantom_volume, out, uid_seed="test-seed")


def test_one_file_per_slice_with_geometry(phantom_volume, written):
    out, paths = written
    assert len(paths) == phantom_volume.shape[0] and all(p.parent == out for p in paths)
    first, last = pydicom.dcmread(paths[0]), pydicom.dcmread(paths[-1])
    assert first.SOPClassUID == "1.2.840.10008.5.1.4.1.1.2" and first.Modality == "CT"
    assert first.PatientName == "SYNTHETIC^PHANTOM"
    assert first.SeriesInstanceUID == last.SeriesInstanceUID != first.StudyInstanceUID
    assert first.SOPInstanceUID != last.SOPInstanceUID
    assert np.allclose([float(v) for v in first.ImagePositionPatient], phantom_volume.origin)
    assert np.allclose([float(v) for v in last.ImagePositionPatient],
                       phantom_volume.index_to_world((phantom_volume.shape[0] - 1, 0, 0)))
    assert [float(v) for v in first.ImageOrientationPatient] == [1, 0, 0, 0, 1, 0]
    assert np.array_equal(first.pixel_array, phantom_volume.voxels[0])
    assert first.PatientSex == "O" and first.PatientAge == "062Y"  # from the phantom's info


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dciodvfy (dicom3tools) not installed")
def test_dciodvfy_reports_no_errors(written):
    _, paths = written
    for p in (paths[0], paths[len(paths) // 2]):
        res = subprocess.run(["dciodvfy", str(p)], capture_output=True, text=True, timeout=60)
        report = res.stdout + res.stderr
        assert "CTImage" in report
        assert "Error" not in report, report


def _sitk_read(folder):
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    reader.SetOutputPixelType(sitk.sitkInt16)
    return reader.Execute()


def test_reloads_identically_with_simpleitk_and_our_loader(phantom_volume, written):
    out, _ = written
    img = _sitk_read(out)
    assert np.array_equal(sitk.GetArrayFromImage(img), phantom_volume.voxels)
    assert np.allclose(img.GetOrigin(), phantom_volume.origin, atol=1e-4)
    assert np.allclose(img.GetSpacing(), phantom_volume.spacing_xyz, atol=1e-4)
    assert np.allclose(np.reshape(img.GetDirection(), (3, 3)), phantom_volume.direction)
    vol = load(out)
    assert np.array_equal(vol.voxels, phantom_volume.voxels)
    assert np.allclose(vol.affine, phantom_volume.affine, atol=1e-4)


def test_oblique_grid_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    vox = rng.integers(-1000, 1000, size=(6, 20, 24)).astype(np.int16)
    a = np.deg2rad(20)
    rot = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1.0]])
    tilt = np.deg2rad(10)
    rot = rot @ np.array([[1, 0, 0], [0, np.cos(tilt), -np.sin(tilt)], [0, np.sin(tilt), np.cos(tilt)]])
    vol = Volume(vox, Volume.make_affine((0.8, 0.9, 2.0), (-10.0, 20.0, -50.0), rot))
    write_series(vol, tmp_path / "s")
    img = _sitk_read(tmp_path / "s")
    assert np.array_equal(sitk.GetArrayFromImage(img), vox)
    assert np.allclose(np.reshape(img.GetDirection(), (3, 3)), rot, atol=1e-5)
    assert np.allclose(img.GetOrigin(), vol.origin, atol=1e-4)


def test_uid_seed_makes_uids_repeatable(phantom_volume, tmp_path):
    small = phantom_volume.with_voxels(np.ascontiguousarray(phantom_volume.voxels[:3]))
    a = write_series(small, tmp_path / "a", uid_seed="x")
    b = write_series(small, tmp_path / "b", uid_seed="x")
    c = write_series(small, tmp_path / "c")
    uid = lambda p: (pydicom.dcmread(p).SeriesInstanceUID, pydicom.dcmread(p).SOPInstanceUID)  # noqa: E731
    assert uid(a[1]) == uid(b[1]) != uid(c[1])


def test_bad_requests_raise_typed_errors(phantom_volume, written, tmp_path):
    out, _ = written
    with pytest.raises(DicomWriteError, match="already holds DICOM files") as e:
        write_series(phantom_volume, out)
    assert str(out) in str(e.value) and "empty or new folder" in str(e.value)
    flt = Volume(np.zeros((2, 4, 4), np.float32), np.eye(4))
    with pytest.raises(DicomWriteError, match="only int16"):
        write_series(flt, tmp_path / "f")
    mirrored = Volume(np.zeros((2, 4, 4), np.int16), np.diag([1.0, 1.0, -1.0, 1.0]))
    with pytest.raises(DicomWriteError, match="right-handed"):
        write_series(mirrored, tmp_path / "m")
    (tmp_path / "file").write_text("x")
    with pytest.raises(DicomWriteError, match="not a folder"):
        write_series(Volume(np.zeros((2, 4, 4), np.int16), np.eye(4)), tmp_path / "file")
