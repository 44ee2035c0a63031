"""Sizes a header claims are checked against the file and the memory before anything is allocated:
a typed error naming the file, never numpy's "Unable to allocate" or a sheared image."""

from __future__ import annotations

import resource
import subprocess
import sys
import tracemalloc

import numpy as np
import pydicom
import pytest
from dicom_made import REPO, make_enhanced, make_series
from pydicom.uid import RLELossless

from inference.imaging import load
from inference.imaging.errors import ClaimedSizeMismatch, CorruptFile, TooLargeForMemory

#: the most a refused load may allocate (the series under test is a few KiB)
SMALL = 16 * 2**20


def _load_peak(path) -> tuple[BaseException | None, int]:
    tracemalloc.start()
    try:
        load(path)
        error = None
    except Exception as exc:  # the test asserts on the type
        error = exc
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return error, peak


def _edit(path, **values) -> None:
    ds = pydicom.dcmread(path)
    for k, v in values.items():
        setattr(ds, k, v)
    ds.save_as(path)


def test_65535_square_header_with_little_data_is_refused_before_allocating(tmp_path):
    series = make_series(tmp_path / "s", n=4)
    for f in series:
        _edit(f, Rows=65535, Columns=65535)
    error, peak = _load_peak(series[0].parent)
    assert isinstance(error, ClaimedSizeMismatch) and isinstance(error, CorruptFile)
    assert error.path == str(series[0])  # the first file of the series, named
    assert "65535 rows x 65535 columns of 16 bits (8.0 GiB of pixel data)" in error.problem
    assert "the file holds 1.1 KiB (1152 bytes)" in error.problem
    assert "Rows, Columns, NumberOfFrames" in error.fix
    assert peak < SMALL


@pytest.mark.parametrize("delta,words", [(-1, "Rows or Columns are wrong"), (+1, "the file holds")])
def test_columns_off_by_one_are_refused_not_sheared(tmp_path, delta, words):
    series = make_series(tmp_path / "s", n=4)
    _edit(series[2], Columns=24 + delta)
    with pytest.raises(ClaimedSizeMismatch, match=words) as e:
        load(series[0].parent)
    assert e.value.path == str(series[2])


def test_native_multiframe_claiming_more_frames_than_it_holds(tmp_path):
    f = make_enhanced(tmp_path / "mf.dcm", frames=6, pixel_data=bytes(2 * 24 * 24 * 3))
    with pytest.raises(ClaimedSizeMismatch, match=r"24 rows x 24 columns x 6 frames of 16 bits") as e:
        load(f)
    assert e.value.path == str(f)


def test_compressed_multiframe_with_fewer_fragments_than_frames(tmp_path):
    f = make_enhanced(tmp_path / "mf.dcm", frames=5, fragments=3, syntax=RLELossless)
    with pytest.raises(ClaimedSizeMismatch, match=r"claims 5 compressed frame\(s\) but the pixel data holds "
                                                  r"3 fragment\(s\)") as e:
        load(f)
    assert e.value.path == str(f)


def test_series_too_large_for_memory_is_refused_before_allocating(tmp_path):
    """600 compressed frames of 65535 x 65535: one fragment each (so each file is consistent), but
    4.7 TiB to decode."""
    f = make_enhanced(tmp_path / "huge.dcm", frames=600, rows=65535, cols=65535, fragments=600,
                      syntax=RLELossless)
    error, peak = _load_peak(f)
    assert isinstance(error, TooLargeForMemory), repr(error)
    assert error.path == str(f)
    assert "600 planes of 65535 x 65535 pixels" in error.problem and "TiB to read it" in error.problem
    assert "of memory are available" in error.problem and "a chest CT is far smaller" in error.fix
    assert peak < SMALL


@pytest.mark.filterwarnings("ignore:The pixel data is 1156 bytes long:UserWarning")  # pydicom says it too
def test_a_few_bytes_after_the_pixel_data_are_ignored_and_said(tmp_path):
    series = make_series(tmp_path / "s", n=4)
    plain = load(series[0].parent)
    ds = pydicom.dcmread(series[1])
    ds.PixelData = ds.PixelData + b"\0\0\0\0"
    ds.save_as(series[1])
    vol = load(series[0].parent)
    np.testing.assert_array_equal(vol.voxels, plain.voxels)
    assert vol.info.warnings == (f"{series[1].name}: 4 byte(s) after the pixel data ignored",)


_LIMITED = """
import resource, sys
from inference.imaging import load
from inference.imaging.errors import TooLargeForMemory
soft, hard = resource.getrlimit(resource.RLIMIT_AS)
with open("/proc/self/status") as fh:
    vm = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, (vm + 24 * 2**20, hard))  # 24 MiB more than now
try:
    load(sys.argv[1])
except TooLargeForMemory as e:
    print("TYPED", e.path, "|", e.problem)
"""


def test_memory_error_while_loading_becomes_typed(tmp_path):
    """The machine has the memory but the process may not use it (an address-space limit): numpy's
    MemoryError from the volume's allocation comes back as TooLargeForMemory naming the scan."""
    if not hasattr(resource, "RLIMIT_AS"):
        pytest.skip("no address-space limit on this platform")
    series = make_series(tmp_path / "s", n=4, rows=2048, cols=2048)  # 8 MiB per slice, 32 MiB in all
    run = subprocess.run([sys.executable, "-c", _LIMITED, str(series[0].parent)], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"TYPED {series[0].parent} | reading it needs more memory than is available")
