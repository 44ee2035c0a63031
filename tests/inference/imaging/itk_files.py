"""Small NIfTI-1 and MetaImage files made in a test: written by SimpleITK, then damaged on purpose
(NIfTI-1 header fields are patched at their offsets in nifti1.h)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import SimpleITK as sitk

SPACING_XYZ = (0.7, 0.8, 1.25)
#: NIfTI-1 field → (byte offset, struct format) for little-endian files
N1 = {"dim": (40, "8h"), "datatype": (70, "h"), "bitpix": (72, "h"), "pixdim": (76, "8f"),
      "vox_offset": (108, "f"), "scl_slope": (112, "f"), "scl_inter": (116, "f"),
      "qform_code": (252, "h"), "sform_code": (254, "h"), "quatern": (256, "6f"), "srow": (280, "12f"),
      "magic": (344, "4s")}


def chest_like(shape_zyx: tuple[int, int, int] = (10, 12, 14), seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(-1000, 400, size=shape_zyx).astype(np.int16)


def write_image(path: Path, voxels: np.ndarray, compress: bool = False) -> Path:
    img = sitk.GetImageFromArray(voxels)
    img.SetSpacing(SPACING_XYZ)
    img.SetOrigin((-10.0, 20.0, -30.0))
    sitk.WriteImage(img, str(path), useCompression=compress)
    return path


def patch_nifti(path: Path, field: str, *values: object, index: int = 0) -> None:
    """Set ``field`` (element ``index`` onwards for arrays) of an uncompressed or gzipped NIfTI-1."""
    gz = path.name.endswith(".gz")
    data = bytearray(gzip.decompress(path.read_bytes()) if gz else path.read_bytes())
    offset, fmt = N1[field]
    size = struct.calcsize("<" + fmt[-1]) if fmt[-1] != "s" else 0
    struct.pack_into("<" + (f"{len(values)}{fmt[-1]}" if fmt[-1] != "s" else fmt), data,
                     offset + index * size, *values)
    path.write_bytes(gzip.compress(bytes(data)) if gz else bytes(data))


def read_nifti(path: Path, field: str) -> tuple:
    data = path.read_bytes()
    data = gzip.decompress(data) if path.name.endswith(".gz") else data
    offset, fmt = N1[field]
    return struct.unpack_from("<" + fmt, data, offset)


def edit_mhd(path: Path, key: str, value: str | None) -> None:
    """Set (or with None remove) ``key`` in a MetaImage header."""
    lines = path.read_text().splitlines()
    out = [ln for ln in lines if ln.split("=")[0].strip() != key]
    if value is not None:
        at = next((i for i, ln in enumerate(out) if ln.startswith("ElementDataFile")), len(out))
        out.insert(at, f"{key} = {value}")  # ElementDataFile itself goes last
    path.write_text("\n".join(out) + "\n")


def nifti1_by_hand(path: Path, voxels: np.ndarray, endian: str = "<") -> Path:
    """A NIfTI-1 file built field by field (int16 or float32, sform only) in either byte order."""
    code, bits = {"i2": (4, 16), "f4": (16, 32)}[voxels.dtype.str[1:]]
    h = bytearray(352)
    nz, ny, nx = voxels.shape
    struct.pack_into(endian + "i", h, 0, 348)
    struct.pack_into(endian + "8h", h, 40, 3, nx, ny, nz, 1, 1, 1, 1)
    struct.pack_into(endian + "2h", h, 70, code, bits)
    struct.pack_into(endian + "8f", h, 76, 1, *SPACING_XYZ, 0, 0, 0, 0)
    struct.pack_into(endian + "3f", h, 108, 352, 1, 0)
    h[123] = 2  # mm
    struct.pack_into(endian + "2h", h, 252, 0, 1)
    rows = ([SPACING_XYZ[0], 0, 0, 1], [0, SPACING_XYZ[1], 0, 2], [0, 0, SPACING_XYZ[2], 3])
    for r, row in enumerate(rows):
        struct.pack_into(endian + "4f", h, 280 + 16 * r, *row)
    h[344:348] = b"n+1\0"
    path.write_bytes(bytes(h) + voxels.astype(endian + voxels.dtype.str[1:]).tobytes())
    return path
