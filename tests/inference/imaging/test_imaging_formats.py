"""Other encodings of the same real slices load to the same Volume: compressed transfer syntaxes,
an enhanced multi-frame object, MetaImage and NIfTI files, shuffled names, oblique orientation."""

from __future__ import annotations

import copy
import shutil
import subprocess

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from dicom_copies import copy_slices, edit
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import JPEG2000Lossless, RLELossless, generate_uid

from inference.imaging import load

N = 6


@pytest.fixture()
def slices(lidc1, tmp_path):
    return copy_slices(lidc1, tmp_path / "plain", N)


@pytest.fixture()
def plain(slices):
    return load(slices[0].parent)


@pytest.mark.parametrize("syntax", [RLELossless, JPEG2000Lossless], ids=["rle", "jpeg2000"])
def test_compressed_series(slices, plain, syntax):
    for f in slices:
        ds = pydicom.dcmread(f)
        ds.compress(syntax)
        ds.save_as(f)
    assert str(pydicom.dcmread(slices[0], stop_before_pixels=True).file_meta.TransferSyntaxUID) == syntax
    vol = load(slices[0].parent)
    np.testing.assert_array_equal(vol.voxels, plain.voxels)
    np.testing.assert_array_equal(vol.affine, plain.affine)


@pytest.mark.parametrize("tool,syntax", [("dcmcjpeg", "1.2.840.10008.1.2.4.70"),
                                          ("dcmcjpls", "1.2.840.10008.1.2.4.80")],
                         ids=["jpeg-lossless-sv1", "jpeg-ls-lossless"])
def test_series_compressed_by_dcmtk(slices, plain, tool, syntax):
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} (dcmtk) is not installed")
    for f in slices:
        subprocess.run([tool, str(f), str(f) + ".tmp"], check=True, capture_output=True)
        shutil.move(str(f) + ".tmp", f)
    assert str(pydicom.dcmread(slices[0], stop_before_pixels=True).file_meta.TransferSyntaxUID) == syntax
    vol = load(slices[0].parent)
    np.testing.assert_array_equal(vol.voxels, plain.voxels)


def test_sorting_ignores_file_names_and_instance_numbers(slices, plain, tmp_path):
    shuffled = tmp_path / "shuffled"
    shuffled.mkdir()
    for k, f in enumerate(slices):
        target = shuffled / f"{(k * 7) % N:02d}_{k % 2}.dcm"
        f.rename(target)
        edit(target, InstanceNumber=(k * 5) % N + 1)
    vol = load(shuffled)
    np.testing.assert_array_equal(vol.voxels, plain.voxels)
    np.testing.assert_array_equal(vol.affine, plain.affine)


def _enhanced(slices, out) -> None:
    """An Enhanced CT object holding the slices as frames, stored in reverse order."""
    frames = [pydicom.dcmread(f) for f in reversed(slices)]
    ds = copy.deepcopy(frames[0])
    for kw in ("ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "SliceLocation",
               "RescaleSlope", "RescaleIntercept"):
        delattr(ds, kw)
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2.1"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.NumberOfFrames = len(frames)
    measures, orient, rescale = Dataset(), Dataset(), Dataset()
    measures.PixelSpacing = frames[0].PixelSpacing
    measures.SliceThickness = frames[0].SliceThickness
    orient.ImageOrientationPatient = frames[0].ImageOrientationPatient
    rescale.RescaleIntercept, rescale.RescaleSlope, rescale.RescaleType = -1024, 1, "HU"
    shared = Dataset()
    shared.PixelMeasuresSequence = Sequence([measures])
    shared.PlaneOrientationSequence = Sequence([orient])
    shared.PixelValueTransformationSequence = Sequence([rescale])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    per_frame = []
    for fr in frames:
        pos, item = Dataset(), Dataset()
        pos.ImagePositionPatient = fr.ImagePositionPatient
        item.PlanePositionSequence = Sequence([pos])
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    ds.PixelData = b"".join(fr.PixelData for fr in frames)
    ds.save_as(out)


def test_enhanced_multiframe(slices, plain, tmp_path):
    out = tmp_path / "enhanced" / "ct.dcm"
    out.parent.mkdir()
    _enhanced(slices, out)
    for path in (out, out.parent):  # the file itself, or its folder
        vol = load(path)
        np.testing.assert_array_equal(vol.voxels, plain.voxels)
        np.testing.assert_allclose(vol.affine, plain.affine, atol=1e-6)
        assert vol.info.source_files == (str(out),) * N
        assert vol.info.sop_class_uid == "1.2.840.10008.5.1.4.1.1.2.1"


def _write_itk(vol, path, compress=False) -> None:
    img = sitk.GetImageFromArray(np.asarray(vol.voxels))
    img.SetSpacing(vol.spacing_xyz)
    img.SetOrigin(vol.origin)
    img.SetDirection(vol.direction.ravel().tolist())
    sitk.WriteImage(img, str(path), compress)


@pytest.mark.parametrize("name,compress,data", [("scan.mhd", False, "scan.raw"), ("scan.mhd", True, "scan.zraw"),
                                                ("scan.nii.gz", True, None), ("scan.nii", False, None)])
def test_itk_formats_round_trip(plain, tmp_path, name, compress, data):
    _write_itk(plain, tmp_path / name, compress)
    if data:
        assert (tmp_path / data).exists()
    vol = load(tmp_path / name)
    assert vol.voxels.dtype == np.int16
    np.testing.assert_array_equal(vol.voxels, plain.voxels)
    np.testing.assert_allclose(vol.affine, plain.affine, atol=1e-4)


def test_float_nifti_is_rounded_to_int16(plain, tmp_path):
    img = sitk.GetImageFromArray(np.asarray(plain.voxels, dtype=np.float32) + 0.3)
    sitk.WriteImage(img, str(tmp_path / "f.nii.gz"))
    vol = load(tmp_path / "f.nii.gz")
    assert vol.voxels.dtype == np.int16
    np.testing.assert_array_equal(vol.voxels, plain.voxels)


def test_oblique_orientation_is_preserved(slices, plain, tmp_path):
    a = np.radians(25)
    rot = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    for f in slices:
        ds = pydicom.dcmread(f)
        iop = np.asarray(ds.ImageOrientationPatient, float)
        ipp = np.asarray(ds.ImagePositionPatient, float)
        edit(f, ImageOrientationPatient=[round(v, 8) for v in (*rot @ iop[:3], *rot @ iop[3:])],
             ImagePositionPatient=[round(v, 5) for v in rot @ ipp])
    vol = load(slices[0].parent)
    np.testing.assert_array_equal(vol.voxels, plain.voxels)
    np.testing.assert_allclose(vol.affine[:3, :3], rot @ plain.affine[:3, :3], atol=1e-5)
    np.testing.assert_allclose(vol.origin, rot @ np.asarray(plain.origin), atol=1e-3)
    assert not vol.is_axial
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(slices[0].parent)))
    img = reader.Execute()
    np.testing.assert_allclose(vol.direction, np.reshape(img.GetDirection(), (3, 3)), atol=1e-5)
    np.testing.assert_allclose(vol.origin, img.GetOrigin(), atol=1e-3)


def test_rescale_slope_and_intercept(slices, plain):
    for f in slices:
        ds = pydicom.dcmread(f)
        ds.RescaleSlope, ds.RescaleIntercept = 0.5, -100
        ds.save_as(f)
    raw = np.asarray(plain.voxels, np.float64) + 1024  # the stored values of the copies
    vol = load(slices[0].parent)
    np.testing.assert_array_equal(vol.voxels, np.rint(raw * 0.5 - 100).astype(np.int16))


def test_progress_is_reported_in_order(lidc1):
    seen = []
    vol = load(lidc1, progress=lambda fraction, message: seen.append((fraction, message)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) >= 8
    assert seen[-1][1] == f"reading slice {vol.shape[0]} of {vol.shape[0]}"


def test_implicit_vr_little_endian(slices, plain):
    from pydicom.uid import ImplicitVRLittleEndian

    for f in slices:
        ds = pydicom.dcmread(f)
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
        ds.save_as(f, implicit_vr=True, little_endian=True)
    assert pydicom.dcmread(slices[0]).file_meta.TransferSyntaxUID == ImplicitVRLittleEndian
    vol = load(slices[0].parent)
    np.testing.assert_array_equal(vol.voxels, plain.voxels)


def test_direct_read_applies_only_where_the_bytes_are_plain(slices):
    from inference.imaging.dicom_headers import read_headers
    from inference.imaging.dicom_pixels import _read_direct

    plain_header = read_headers(str(slices[0]))[0]
    direct = _read_direct(plain_header)
    np.testing.assert_array_equal(direct, pydicom.dcmread(slices[0]).pixel_array)
    ds = pydicom.dcmread(slices[1])
    ds.compress(RLELossless)
    ds.save_as(slices[1])
    assert _read_direct(read_headers(str(slices[1]))[0]) is None
