"""Stored values beyond BitsStored: refused with the files named, never wrapped by 2**BitsStored;
read whole only where the header itself makes that certain (padding value, declared overlay)."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from dicom_made import make_series, restore
from pydicom.uid import RLELossless

from inference.imaging import load
from inference.imaging.errors import BitsStoredExceeded, CorruptFile


@pytest.fixture()
def series(tmp_path):
    return make_series(tmp_path / "series")


def _hu(path):
    return pydicom.dcmread(path).pixel_array.astype(np.int64)  # the writer's signed 16-bit HU


CASES = {
    # name: (signed, slope, intercept, raw of HU, raw beyond the 12-bit range)
    "unsigned": (False, 1.0, -1024.0, lambda hu: hu + 1024, 5000),  # 12 bits: 0..4095
    "signed": (True, 1.0, 0.0, lambda hu: hu, -3024),  # 12 bits: -2048..2047
    "unsigned-rescaled": (False, 0.5, -1024.0, lambda hu: (hu + 1024) * 2, 6000),
    "signed-rescaled": (True, 2.0, -24.0, lambda hu: (hu + 24) // 2, 2100),
}


@pytest.mark.parametrize("case", CASES)
def test_values_beyond_bits_stored_are_refused_with_the_files_named(series, case):
    signed, slope, intercept, to_raw, beyond = CASES[case]
    victims = {series[1]: 37, series[4]: 5}
    for f in series:
        raw = to_raw(_hu(f))
        n = victims.get(f, 0)
        raw.reshape(-1)[:n] = beyond
        restore(f, raw, bits_stored=12, signed=signed, slope=slope, intercept=intercept)
    with pytest.raises(BitsStoredExceeded) as e:
        load(series[0].parent)
    err = e.value
    assert isinstance(err, CorruptFile)
    assert "42 voxel(s) in 2 of 6 file(s)" in err.problem
    assert f"{series[1].name}, {series[4].name}" in err.problem  # the file with most voxels first
    assert f"{beyond}..{beyond}" in err.problem and "BitsStored 12" in err.problem
    assert "shift those voxels by 4096" in err.problem
    assert err.path == str(series[0].parent) and "BitsStored" in err.fix


def test_one_file_beyond_is_named_as_the_subject(series):
    raw = _hu(series[2]) + 1024
    raw[3, 3] = 4096
    restore(series[2], raw, bits_stored=12, signed=False, intercept=-1024)
    with pytest.raises(BitsStoredExceeded, match="1 voxel") as e:
        load(series[0].parent)
    assert e.value.path == str(series[2])


def test_compressed_file_is_checked_on_its_whole_cells(series):
    raw = _hu(series[3]) + 1024
    raw[:2] = 4500
    restore(series[3], raw, bits_stored=12, signed=False, intercept=-1024)
    ds = pydicom.dcmread(series[3])
    ds.compress(RLELossless)
    ds.save_as(series[3])
    with pytest.raises(BitsStoredExceeded, match=rf"48 voxel\(s\) in 1 of 6 file\(s\) \({series[3].name}\)"):
        load(series[0].parent)


@pytest.mark.parametrize("signed", [False, True])
def test_values_within_bits_stored_load_unchanged(series, signed):
    plain = load(series[0].parent)
    for f in series:
        hu = np.clip(_hu(f), -1024, 2047 if signed else 3071)
        restore(f, hu if signed else hu + 1024, bits_stored=12, signed=signed, intercept=0 if signed else -1024)
    vol = load(series[0].parent)
    np.testing.assert_array_equal(vol.voxels, np.clip(plain.voxels, -1024, 2047 if signed else 3071))
    assert vol.info.warnings == ()


def test_padding_value_beyond_bits_stored_is_certain_and_said(series):
    """Signed 12 bits, PixelPaddingValue -3024 (outside -2048..2047): the header names the value."""
    for f in series:
        raw = _hu(f)
        raw[:, :4] = -3024  # outside the scanned field
        restore(f, raw, bits_stored=12, signed=True)
        ds = pydicom.dcmread(f)
        ds.add_new(0x00280120, "SS", -3024)  # PixelPaddingValue
        ds.save_as(f)
    vol = load(series[0].parent)
    assert np.all(vol.voxels[:, :, :4] == -1024)  # air, not +1072 HU (the wrapped value)
    n = 6 * 24 * 4
    assert f"{n} padding voxel(s) hold PixelPaddingValue -3024, which is outside BitsStored 12" in \
        " ".join(vol.info.warnings)
    assert any(f"{n} padding pixels" in w for w in vol.info.warnings)


def test_padding_value_does_not_excuse_other_values(series):
    raw = _hu(series[0])
    raw[:, :4] = -3024
    raw[10, 10] = 3000  # beyond, and not padding
    restore(series[0], raw, bits_stored=12, signed=True)
    ds = pydicom.dcmread(series[0])
    ds.add_new(0x00280120, "SS", -3024)
    ds.save_as(series[0])
    with pytest.raises(BitsStoredExceeded, match=r"97 voxel\(s\) .* hold stored values -3024\.\.3000"):
        load(series[0].parent)


def test_declared_overlay_in_the_high_bits_is_cleared(series):
    """Embedded overlay (retired, still in old files): OverlayBitPosition 12 says what bit 12 is."""
    plain = load(series[0].parent)
    for f in series:
        raw = np.clip(_hu(f), -1024, 3071) + 1024
        raw[5:9, 5:9] |= 1 << 12  # the overlay plane drawn in bit 12
        restore(f, raw, bits_stored=12, signed=False, intercept=-1024)
        ds = pydicom.dcmread(f)
        ds.add_new(0x60000010, "US", 24)  # OverlayRows
        ds.add_new(0x60000011, "US", 24)  # OverlayColumns
        ds.add_new(0x60000040, "CS", "G")  # OverlayType
        ds.add_new(0x60000050, "SS", [1, 1])  # OverlayOrigin
        ds.add_new(0x60000100, "US", 16)  # OverlayBitsAllocated
        ds.add_new(0x60000102, "US", 12)  # OverlayBitPosition
        ds.save_as(f)
    vol = load(series[0].parent)
    np.testing.assert_array_equal(vol.voxels, np.clip(plain.voxels, -1024, 3071))
    assert vol.info.warnings == ()
