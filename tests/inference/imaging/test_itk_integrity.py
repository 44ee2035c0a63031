"""NIfTI and MetaImage files whose data is not what their header promises are refused with a typed
error naming the file (or repaired, with a warning, only where NIfTI makes the repair certain)."""

from __future__ import annotations

import gzip
import time
import tracemalloc
import zlib

import numpy as np
import pytest
from itk_files import SPACING_XYZ, chest_like, edit_mhd, nifti1_by_hand, patch_nifti, write_image

from inference.imaging import CorruptFile, UnsupportedFormat, load


@pytest.fixture()
def voxels():
    return chest_like()


def _refused(path, *words):
    with pytest.raises(CorruptFile) as info:
        load(path)
    text = str(info.value)
    assert str(path) in text, text
    for w in words:
        assert w in text, text
    assert "No such file or directory" not in text
    return text


@pytest.mark.parametrize("name", ["scan.nii", "scan.nii.gz"])
@pytest.mark.parametrize("keep", [0.34, 0.9])
def test_truncated_nifti_is_refused(tmp_path, voxels, name, keep):
    path = write_image(tmp_path / name, voxels)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    text = _refused(path, "14×12×10 int16")
    assert ("ends early" in text) if name.endswith(".gz") else ("truncated" in text)


def test_gzip_with_a_bad_checksum_is_refused(tmp_path, voxels):
    path = write_image(tmp_path / "scan.nii.gz", voxels)
    data = bytearray(path.read_bytes())
    data[-8] ^= 0xFF  # the CRC32 of the gzip trailer
    path.write_bytes(bytes(data))
    _refused(path, "gzip stream is damaged")


def test_nifti_with_more_data_than_its_dims_is_refused(tmp_path, voxels):
    path = write_image(tmp_path / "scan.nii", voxels)
    patch_nifti(path, "dim", 13, index=1)  # one column too few
    _refused(path, "13×12×10 int16", "sheared")


@pytest.mark.parametrize("width,words", [(13, ("more than", "sheared")), (15, ("truncated",))],
                         ids=["one-column-too-small", "one-column-too-big"])
def test_metaimage_dimsize_against_its_raw(tmp_path, voxels, width, words):
    path = write_image(tmp_path / "scan.mhd", voxels)
    edit_mhd(path, "DimSize", f"{width} 12 10")
    text = _refused(path, "scan.raw", f"DimSize {width}×12×10 of MET_SHORT", *words)
    assert "3,360" in text  # 14 × 12 × 10 × 2 bytes: what the raw holds, or what is promised


def test_missing_raw_is_named(tmp_path, voxels):
    path = write_image(tmp_path / "scan.mhd", voxels)
    (tmp_path / "scan.raw").unlink()
    _refused(path, "scan.raw", "does not exist")


def test_zraw_cut_short_without_a_compressed_size(tmp_path, voxels):
    path = write_image(tmp_path / "scan.mhd", voxels, compress=True)
    edit_mhd(path, "CompressedDataSize", None)
    zraw = tmp_path / "scan.zraw"
    zraw.write_bytes(zraw.read_bytes()[:-40])
    _refused(path, "scan.zraw", "ends early")


def test_zraw_shorter_than_its_compressed_size(tmp_path, voxels):
    path = write_image(tmp_path / "scan.mhd", voxels, compress=True)
    zraw = tmp_path / "scan.zraw"
    zraw.write_bytes(zraw.read_bytes()[:-40])
    _refused(path, "CompressedDataSize")


def test_zraw_that_decompresses_to_more_than_promised(tmp_path, voxels):
    path = write_image(tmp_path / "scan.mhd", voxels, compress=True)
    edit_mhd(path, "CompressedDataSize", None)
    (tmp_path / "scan.zraw").write_bytes(zlib.compress(voxels.tobytes() + b"\0" * 28))
    _refused(path, "more than")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("name", ["scan.nii", "scan.nii.gz", "scan.mhd"])
def test_non_finite_voxels_are_refused(tmp_path, voxels, bad, name):
    f = voxels.astype(np.float32)
    f[2, 3, 4] = bad
    path = write_image(tmp_path / name, f)
    _refused(path, "1 voxel(s) are NaN or infinite", "(4, 3, 2)")


@pytest.mark.parametrize("slope,inter", [(np.inf, 0.0), (np.nan, 0.0), (1.0, np.nan), (1.0, -np.inf)])
def test_non_finite_intensity_scaling_is_refused(tmp_path, voxels, slope, inter):
    path = write_image(tmp_path / "scan.nii", voxels)
    patch_nifti(path, "scl_slope", slope, inter)
    _refused(path, "intensity scaling is not a number")


def test_scaling_that_overflows_to_infinity_is_refused(tmp_path, voxels):
    path = write_image(tmp_path / "scan.nii", voxels.astype(np.float32))
    patch_nifti(path, "scl_slope", 1e38, 0.0)
    _refused(path, "NaN or infinite values (after its intensity scaling)")


@pytest.mark.parametrize("axis,value", [(3, 0.0), (3, -1.25), (1, -0.7), (2, np.nan)])
def test_bad_pixdim_without_an_sform_is_refused(tmp_path, voxels, axis, value):
    path = write_image(tmp_path / "scan.nii", voxels)
    patch_nifti(path, "sform_code", 0)
    patch_nifti(path, "pixdim", value, index=axis)
    text = _refused(path, f"pixdim[{axis}] ({'xyz'[axis - 1]})", "no sform")
    assert ("ambiguous" in text) == (value < 0)


@pytest.mark.parametrize("axis,value", [(3, 0.0), (3, -1.25), (1, -0.7)])
def test_bad_pixdim_with_an_sform_takes_the_sform_grid(tmp_path, voxels, axis, value):
    path = write_image(tmp_path / "scan.nii", voxels)
    plain = load(path)
    patch_nifti(path, "pixdim", value, index=axis)
    vol = load(path)
    np.testing.assert_allclose(vol.affine, plain.affine, atol=1e-5)  # not 1 mm, not flipped
    np.testing.assert_allclose(vol.spacing_xyz, SPACING_XYZ, atol=1e-5)
    np.testing.assert_array_equal(vol.voxels, plain.voxels)
    assert vol.info.warnings == (
        f"pixdim[{axis}] ({'xyz'[axis - 1]}) = {value:g} in the header is not a positive voxel size; the grid is "
        "taken from the sform (sform_code 1), which defines it without pixdim: voxel size 0.7 × 0.8 × 1.25 mm",)


@pytest.mark.parametrize("spacing", ["0.7 0.8 0", "0.7 0.8 -1.25", "-0.7 0.8 1.25", "0.7 nan 1.25"])
def test_metaimage_spacing_must_be_positive(tmp_path, voxels, spacing):
    path = write_image(tmp_path / "scan.mhd", voxels)
    edit_mhd(path, "ElementSpacing", spacing)
    _refused(path, "ElementSpacing", "not positive")


@pytest.mark.parametrize("name,dims", [("scan.nii", (32767, 32767, 40)), ("scan.nii.gz", (32767, 32767, 40)),
                                       ("scan.mhd", (65535, 65535, 40)), ("scan.mha", (65535, 65535, 40))])
def test_huge_claimed_size_is_refused_before_anything_allocates(tmp_path, voxels, name, dims):
    path = write_image(tmp_path / name, voxels)
    if name.startswith("scan.ni"):
        patch_nifti(path, "dim", *dims, index=1)
    else:  # the header text of a .mhd, or the text part of a .mha
        claim = ("DimSize = " + " ".join(map(str, dims))).encode()
        path.write_bytes(path.read_bytes().replace(b"DimSize = 14 12 10", claim, 1))
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        text = _refused(path, "×".join(map(str, dims)))
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert time.perf_counter() - t0 < 5
    assert peak < 64 * 1024 * 1024, peak
    assert "GB" in text and ("promises" in text or "cannot hold" in text)


def test_hdr_img_pair_magic_in_a_nii_is_unsupported(tmp_path, voxels):
    path = write_image(tmp_path / "scan.nii", voxels)
    patch_nifti(path, "magic", b"ni1\0")
    with pytest.raises(UnsupportedFormat, match=".img file"):
        load(path)


def test_gzipped_nifti_of_another_length_than_its_header(tmp_path, voxels):
    path = write_image(tmp_path / "scan.nii.gz", voxels)
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw + b"\0" * 28))  # a complete stream, 14 voxels too long
    _refused(path, "the decompressed file holds", "more than")


@pytest.mark.parametrize("name,compress", [("a.nii", False), ("a.nii.gz", True), ("a.mhd", False),
                                           ("a.mhd", True), ("a.mha", False), ("a.mha", True)])
def test_intact_files_still_load_exactly(tmp_path, voxels, name, compress):
    vol = load(write_image(tmp_path / name, voxels, compress=compress))
    np.testing.assert_array_equal(vol.voxels, voxels)
    np.testing.assert_allclose(vol.spacing_xyz, SPACING_XYZ, atol=1e-6)
    assert vol.info.warnings == ()


def test_a_plain_nifti_named_nii_gz_is_checked_as_plain(tmp_path, voxels):
    path = write_image(tmp_path / "a.nii", voxels).rename(tmp_path / "b.nii.gz")
    np.testing.assert_array_equal(load(path).voxels, voxels)  # the reader takes it: so do the checks
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    _refused(path, "14×12×10 int16", "truncated")


def test_a_gzipped_nifti_named_nii_is_told_to_be_renamed(tmp_path, voxels):
    path = write_image(tmp_path / "a.nii.gz", voxels).rename(tmp_path / "b.nii")
    with pytest.raises(UnsupportedFormat, match=r"b\.nii: the file is gzip-compressed .* Rename it to b\.nii\.gz$"):
        load(path)


@pytest.mark.parametrize("endian", ["<", ">"], ids=["little-endian", "big-endian"])
def test_a_nifti_built_by_hand_in_either_byte_order(tmp_path, voxels, endian):
    vol = load(nifti1_by_hand(tmp_path / "a.nii", voxels, endian))
    np.testing.assert_array_equal(vol.voxels, voxels)
    np.testing.assert_allclose(vol.origin, (-1.0, -2.0, 3.0), atol=1e-6)  # the sform, RAS → LPS
    f = voxels.astype(np.float32)
    f[1, 2, 3] = np.nan
    _refused(nifti1_by_hand(tmp_path / "b.nii", f, endian), "1 voxel(s) are NaN or infinite", "(3, 2, 1)")
