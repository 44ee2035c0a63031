"""Damaged headers and bytes in a real series: the loader gives a Volume or an ImagingError, nothing else."""

from __future__ import annotations

import tempfile
from io import BytesIO
from pathlib import Path

import numpy as np
import pydicom
import pytest
from dicom_copies import series_files
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from inference.imaging import ImagingError, Volume, load
from inference.imaging.errors import BitsStoredExceeded, ClaimedSizeMismatch

N = 4
KEYWORDS = ["Rows", "Columns", "PixelSpacing", "ImagePositionPatient", "ImageOrientationPatient",
            "RescaleSlope", "RescaleIntercept", "BitsAllocated", "BitsStored", "PixelRepresentation",
            "Modality", "SeriesInstanceUID", "NumberOfFrames", "SamplesPerPixel", "PixelPaddingValue",
            "ImageType", "SliceThickness", "PatientAge", "PixelData"]

values = st.one_of(
    st.none(),
    st.integers(-70000, 70000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.floats(-1e4, 1e4) | st.integers(-5, 5), max_size=7),
    st.binary(max_size=64),
)
header_damage = st.tuples(st.just("header"), st.integers(0, N - 1), st.sampled_from(KEYWORDS), values)
byte_damage = st.tuples(st.just("bytes"), st.integers(0, N - 1), st.integers(0, 530_000),
                        st.binary(min_size=1, max_size=32))
cut_damage = st.tuples(st.just("cut"), st.integers(0, N - 1), st.integers(0, 530_000), st.none())


class _Slices(list):
    def __repr__(self) -> str:  # keeps hypothesis' failure report readable
        return f"<{len(self)} LIDC-IDRI-0001 slices>"


@pytest.fixture(scope="module")
def pristine(lidc1) -> list[bytes]:
    return _Slices(f.read_bytes() for f in series_files(lidc1)[60:60 + N])


def _apply(folder: Path, pristine: list[bytes], damage) -> None:
    for k, data in enumerate(pristine):
        (folder / f"s{k}.dcm").write_bytes(data)
    kind, k, where, what = damage
    target = folder / f"s{k}.dcm"
    data = bytearray(pristine[k])
    if kind == "bytes":
        at = where % len(data)
        data[at:at + len(what)] = what
        target.write_bytes(bytes(data))
    elif kind == "cut":
        target.write_bytes(bytes(data[: where % len(data)]))
    else:
        ds = pydicom.dcmread(target)
        try:
            if what is None:
                if where in ds:
                    delattr(ds, where)
            else:
                setattr(ds, where, what)
            ds.save_as(target)
        except Exception:  # pydicom refuses to write this value: nothing to test
            assume(False)


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom warns when writing the damaged values
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(damage=st.one_of(header_damage, byte_damage, cut_damage))
def test_damaged_series_gives_volume_or_imaging_error(pristine, damage):
    with tempfile.TemporaryDirectory() as tmp:
        _apply(Path(tmp), pristine, damage)
        try:
            result = load(tmp)
        except ImagingError as exc:
            assert exc.fix and exc.path
            return
        assert isinstance(result, Volume)
        assert result.voxels.dtype.name == "int16" and result.shape[0] >= 1


# Lies the loader must catch, with the answer known: a BitsStored too small for the stored values
# (refused naming the file, never wrapped) and Rows / Columns that do not match the pixel data
# (refused naming the file, never allocated or sheared). A lie that happens to be true loads the
# pristine volume unchanged.
bits_lie = st.tuples(st.just("BitsStored"), st.integers(0, N - 1), st.integers(8, 16))
size_lie = st.tuples(st.sampled_from(["Rows", "Columns"]), st.integers(0, N - 1),
                     st.one_of(st.integers(1, 1100), st.just(65535)))


@pytest.fixture(scope="module")
def pristine_volume(pristine, tmp_path_factory) -> Volume:
    folder = tmp_path_factory.mktemp("pristine")
    for k, data in enumerate(pristine):
        (folder / f"s{k}.dcm").write_bytes(data)
    return load(folder)


def _expected_bits_error(data: bytes, bits: int) -> bool:
    ds = pydicom.dcmread(BytesIO(data))
    ds.pixel_array_options(correct_unused_bits=False)
    raw = ds.pixel_array.astype(np.int64)
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if ds.PixelRepresentation else (0, (1 << bits) - 1)
    pad = ds.get("PixelPaddingValue")
    beyond = (raw < lo) | (raw > hi)
    if pad is not None:
        beyond &= raw != (pad - 65536 if ds.PixelRepresentation and pad >= 32768 else pad)
    return bool(beyond.any())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lie=st.one_of(bits_lie, size_lie))
def test_header_lies_about_the_pixels_are_caught(pristine, pristine_volume, lie):
    keyword, k, value = lie
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for j, data in enumerate(pristine):
            (folder / f"s{j}.dcm").write_bytes(data)
        target = folder / f"s{k}.dcm"
        ds = pydicom.dcmread(target)
        setattr(ds, keyword, value)
        if keyword == "BitsStored":
            ds.HighBit = value - 1
        ds.save_as(target)
        if keyword == "BitsStored":
            wrong = _expected_bits_error(pristine[k], value)
            error: type[ImagingError] = BitsStoredExceeded
        else:
            wrong = value != 512
            error = ClaimedSizeMismatch
        event(f"{keyword} {'caught' if wrong else 'true'}")
        if not wrong:
            vol = load(tmp)
            np.testing.assert_array_equal(vol.voxels, pristine_volume.voxels)
            return
        with pytest.raises(error) as e:
            load(tmp)
        assert e.value.path == str(target)
