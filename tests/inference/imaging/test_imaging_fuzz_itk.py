"""Damaged NIfTI-1 and MetaImage headers and bytes: the loader gives a Volume consistent with the
header, or an ImagingError; never another exception, never a MemoryError, in bounded time.

Deterministic (``derandomize``): the same examples on every run. The bases are small files made
here; each example sets one header field (or one MetaImage key) to a hostile value, overwrites a
few bytes, or cuts the file.
"""

from __future__ import annotations

import gzip
import re
import struct
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from itk_files import N1, chest_like, edit_mhd, patch_nifti, write_image

from inference.imaging import ImagingError, Volume, load

SHAPE_ZYX = (6, 8, 10)
SECONDS = 10.0  # per example, far above the ~20 ms an example takes
BASE = chest_like(SHAPE_ZYX, seed=3)
GEOMETRY_ONLY = {"pixdim", "qform_code", "sform_code", "quatern", "srow"}

floats = st.one_of(st.sampled_from([0.0, -0.0, -1.0, 1.0, 1e38, -1e38, 1e-38]),
                   st.floats(allow_nan=True, allow_infinity=True, width=32))
shorts = st.one_of(st.sampled_from([0, 1, 2, 3, 4, 7, 8, -1, 16, 64, 128, 512, 32767, -32768]),
                   st.integers(-32768, 32767))
FIELD_VALUES = {"dim": shorts, "datatype": shorts, "bitpix": shorts, "pixdim": floats, "vox_offset": floats,
                "scl_slope": floats, "scl_inter": floats, "qform_code": shorts, "sform_code": shorts,
                "quatern": floats, "srow": floats}
SIZES = {"dim": 8, "pixdim": 8, "quatern": 6, "srow": 12}

nifti_field = st.sampled_from(sorted(FIELD_VALUES)).flatmap(
    lambda name: st.tuples(st.just("field"), st.just(name), st.integers(0, SIZES.get(name, 1) - 1),
                           FIELD_VALUES[name]))
nifti_bytes = st.tuples(st.just("bytes"), st.integers(0, 352 + BASE.nbytes), st.integers(0, 9),
                        st.binary(min_size=1, max_size=16))
nifti_cut = st.tuples(st.just("cut"), st.integers(0, 352 + BASE.nbytes), st.integers(0, 9), st.none())
nifti_damage = st.tuples(st.sampled_from(["scan.nii", "scan.nii.gz"]), st.sampled_from(["i2", "f4"]),
                         st.one_of(nifti_field, nifti_bytes, nifti_cut))

KEYS = ["NDims", "DimSize", "ElementType", "ElementSpacing", "Offset", "TransformMatrix", "HeaderSize",
        "CompressedData", "CompressedDataSize", "ElementNumberOfChannels", "BinaryDataByteOrderMSB",
        "BinaryData", "ElementDataFile"]
numbers = st.lists(st.one_of(st.integers(-70000, 70000), floats), min_size=0, max_size=10)
key_values = st.one_of(numbers.map(lambda xs: " ".join(str(x) for x in xs)),
                       st.sampled_from(["True", "False", "LOCAL", "LIST", "MET_FLOAT", "MET_DOUBLE",
                                        "MET_UCHAR", "scan.raw", "-1", "65535 65535 40", "10 8 6 1"]),
                       st.text(st.characters(codec="ascii", exclude_characters="\n\r"), max_size=12))
mhd_key = st.tuples(st.just("key"), st.sampled_from(KEYS), key_values)
mhd_bytes = st.tuples(st.just("header-bytes"), st.integers(0, 400), st.binary(min_size=1, max_size=8))
data_bytes = st.tuples(st.just("data-bytes"), st.integers(0, BASE.nbytes), st.binary(min_size=1, max_size=16))
data_cut = st.tuples(st.just("data-cut"), st.integers(0, BASE.nbytes), st.none())
mhd_damage = st.tuples(st.sampled_from(["scan.mhd", "scan.mha"]), st.booleans(),
                       st.one_of(mhd_key, mhd_bytes, data_bytes, data_cut))


def _dims_claimed(header: bytes) -> tuple[int, ...]:
    dim = struct.unpack_from("<8h", header, 40)
    return tuple(dim[1:dim[0] + 1])


def _damage_nifti(folder: Path, name: str, kind: str, damage: tuple) -> Path:
    path = write_image(folder / name, BASE.astype(kind))
    what, a, b, c = damage
    if what == "field":
        patch_nifti(path, a, c, index=b)
        return path
    data = bytearray(path.read_bytes())
    if what == "bytes":  # in the uncompressed bytes, then compressed again
        raw = bytearray(gzip.decompress(data)) if name.endswith(".gz") else data
        at = a % len(raw)
        raw[at:at + len(c)] = c
        path.write_bytes(gzip.compress(bytes(raw)) if name.endswith(".gz") else bytes(raw))
    else:
        path.write_bytes(bytes(data[: a % len(data)]))
    return path


def _damage_metaimage(folder: Path, name: str, compress: bool, damage: tuple) -> Path:
    path = write_image(folder / name, BASE, compress=compress)
    what, a, b = damage
    data_file = path if name.endswith(".mha") else folder / ("scan.zraw" if compress else "scan.raw")
    if what == "key" and name.endswith(".mhd"):
        edit_mhd(path, a, b)
    elif what == "key":  # the text part of a .mha: replace or add the line before ElementDataFile
        head, sep, tail = path.read_bytes().partition(b"ElementDataFile = LOCAL\n")
        lines = [ln for ln in head.split(b"\n") if ln and ln.split(b"=")[0].strip() != a.encode()]
        line = f"{a} = {b}\n".encode()
        if a == "ElementDataFile":  # it ends the header: the new one replaces LOCAL
            sep, line = line, b""
        path.write_bytes(b"\n".join(lines) + b"\n" + line + sep + tail)
    elif what == "header-bytes":
        data = bytearray(path.read_bytes())
        at = a % min(len(data), 400)
        data[at:at + len(b)] = b
        path.write_bytes(bytes(data))
    else:
        data = bytearray(data_file.read_bytes())
        at = len(data) - 1 - a % len(data)  # counted from the end: inside the voxels of a .mha too
        if what == "data-bytes":
            data[at:at + len(b)] = b
            data_file.write_bytes(bytes(data))
        else:
            data_file.write_bytes(bytes(data[:at]))
    return path


def _outcome(path: Path) -> Volume | None:
    t0 = time.perf_counter()
    try:
        vol = load(path)
    except ImagingError as exc:
        assert exc.fix and exc.path == str(path)
        event(type(exc).__name__)
        vol = None
    assert time.perf_counter() - t0 < SECONDS
    if vol is not None:
        event("loaded")
        assert vol.voxels.dtype == np.int16 and np.all(np.isfinite(vol.affine))
    return vol


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy on hostile float casts in the test helpers
@settings(max_examples=400, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(damage=nifti_damage)
def test_damaged_nifti_gives_a_consistent_volume_or_imaging_error(damage):
    name, kind, change = damage
    with tempfile.TemporaryDirectory() as tmp:
        path = _damage_nifti(Path(tmp), name, kind, change)
        vol = _outcome(path)
        if vol is None:
            return
        raw = path.read_bytes()
        header = gzip.decompress(raw)[:352] if name.endswith(".gz") else raw[:352]
        dims = _dims_claimed(header)
        assert vol.shape == tuple(reversed((dims + (1, 1, 1))[:3])), (dims, vol.shape)
        if change[0] == "field" and change[1] in GEOMETRY_ONLY:
            np.testing.assert_array_equal(vol.voxels, BASE)  # geometry fields never change a voxel


@settings(max_examples=400, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(damage=mhd_damage)
def test_damaged_metaimage_gives_a_consistent_volume_or_imaging_error(damage):
    name, compress, change = damage
    with tempfile.TemporaryDirectory() as tmp:
        path = _damage_metaimage(Path(tmp), name, compress, change)
        vol = _outcome(path)
        if vol is None:
            return
        head = path.read_bytes()[:4096].decode("latin-1")
        claimed = re.search(r"^DimSize\s*=\s*(.*)$", head, re.MULTILINE)
        assert claimed is not None
        dims = tuple(int(float(d)) for d in claimed.group(1).split())
        assert vol.shape == tuple(reversed((dims + (1, 1, 1))[:3])), (dims, vol.shape)
        if change[0] == "key" and change[1] in ("ElementSpacing", "Offset", "TransformMatrix"):
            np.testing.assert_array_equal(vol.voxels, BASE)


def test_field_table_matches_nifti1_h():
    """The offsets the fuzzing patches are nifti1.h's: a file SimpleITK wrote reads back right."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_image(Path(tmp) / "scan.nii", BASE)
        raw = path.read_bytes()
        assert _dims_claimed(raw) == SHAPE_ZYX[::-1]
        assert struct.unpack_from("<h", raw, N1["datatype"][0]) == (4,)
        assert raw[344:348] == b"n+1\0"
