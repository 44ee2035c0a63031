"""The NIfTI-1 / NIfTI-2 header, read by us before any library allocates what it claims.

The header is small and its layout exact (nifti1.h, nifti2.h), so it is parsed here with
``struct``: the dimensions, the voxel type, where the voxels start, the intensity scaling and the
geometry fields. :mod:`inference.imaging.voxel_data` then checks the claims against the bytes of
the file, and :mod:`inference.imaging.itk_formats` decides the geometry questions (zero or
negative ``pixdim``) from what NIfTI says.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.imaging.errors import CorruptFile, UnsupportedFormat, UnsupportedSeries

#: NIfTI datatype code → (numpy type, name); complex and RGB types are not CT intensities
DATATYPES: dict[int, tuple[str, str]] = {
    2: ("u1", "uint8"), 4: ("i2", "int16"), 8: ("i4", "int32"), 16: ("f4", "float32"),
    64: ("f8", "float64"), 256: ("i1", "int8"), 512: ("u2", "uint16"), 768: ("u4", "uint32"),
    1024: ("i8", "int64"), 1280: ("u8", "uint64"),
}
N1_SIZE, N2_SIZE = 348, 540
N1_MIN_OFFSET, N2_MIN_OFFSET = 352, 544
REWRITE = "Write the NIfTI file again from the original scan (e.g. with dcm2niix)"


@dataclass(frozen=True, slots=True)
class NiftiHeader:
    """What a ``.nii`` / ``.nii.gz`` header claims. ``dims`` are the image dimensions in file order
    (x fastest), ``pixdim`` the voxel sizes along them (``pixdim[0]`` of the file is ``qfac``)."""

    version: int
    dims: tuple[int, ...]
    dtype: np.dtype
    type_name: str
    vox_offset: int
    pixdim: tuple[float, float, float]
    qfac: float
    scl_slope: float
    scl_inter: float
    qform_code: int
    sform_code: int
    #: the sform rows (3 × 4) mapping (i, j, k, 1) to RAS mm
    srow: tuple[tuple[float, ...], ...]
    gzipped: bool

    @property
    def n_voxels(self) -> int:
        return math.prod(self.dims)

    @property
    def data_bytes(self) -> int:
        return self.n_voxels * self.dtype.itemsize

    @property
    def describe(self) -> str:
        return f"{'×'.join(str(d) for d in self.dims)} {self.type_name} voxels"

    def sform_lps(self) -> np.ndarray | None:
        """The sform as a (col, row, slice, 1) → LPS affine, or None where there is no usable one."""
        if self.sform_code <= 0:
            return None
        m = np.eye(4)
        m[:3, :] = np.asarray(self.srow, dtype=np.float64)
        if not np.all(np.isfinite(m)) or abs(np.linalg.det(m[:3, :3])) < 1e-9:
            return None
        return np.diag([-1.0, -1.0, 1.0, 1.0]) @ m  # RAS → LPS


def _first_bytes(path: Path, n: int, gzipped: bool) -> bytes:
    try:
        if gzipped:
            with gzip.open(path, "rb") as f:
                return f.read(n)
        with open(path, "rb") as f:
            return f.read(n)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise CorruptFile(path, f"the gzip stream is damaged before the end of the header ({exc})",
                          "The file is truncated or damaged: copy or export it again") from exc


def read_nifti_header(path: Path) -> NiftiHeader:
    """Parse the header of ``path``; raise an ImagingError for anything NIfTI does not allow."""
    with open(path, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"  # by content: a plain file named .nii.gz still reads
    if gzipped and not path.name.lower().endswith(".gz"):
        raise UnsupportedFormat(path, "the file is gzip-compressed but its name ends in .nii, so the reader "
                                "does not decompress it", f"Rename it to {path.name}.gz")
    raw = _first_bytes(path, N2_SIZE, gzipped)
    if len(raw) < N1_SIZE:
        raise CorruptFile(path, f"the file is {len(raw)} bytes long, shorter than a NIfTI header ({N1_SIZE})",
                          "The file is truncated: copy or export it again")
    for endian in "<>":
        size = struct.unpack_from(endian + "i", raw, 0)[0]
        if size == N1_SIZE:
            return _parse_n1(path, raw, endian, gzipped)
        if size == N2_SIZE and len(raw) >= N2_SIZE:
            return _parse_n2(path, raw, endian, gzipped)
    raise CorruptFile(path, "the header does not start with a NIfTI-1 (348) or NIfTI-2 (540) header size",
                      "Check that this is a NIfTI file; " + REWRITE)


def _parse_n1(path: Path, raw: bytes, e: str, gzipped: bool) -> NiftiHeader:
    magic = raw[344:348]
    _check_magic(path, magic, (b"n+1\0", b"ni1\0"))
    dim = struct.unpack_from(e + "8h", raw, 40)
    datatype, bitpix = struct.unpack_from(e + "2h", raw, 70)
    pixdim = struct.unpack_from(e + "8f", raw, 76)
    vox_offset, slope, inter = struct.unpack_from(e + "3f", raw, 108)
    qform, sform = struct.unpack_from(e + "2h", raw, 252)
    srow = tuple(struct.unpack_from(e + "4f", raw, 280 + 16 * r) for r in range(3))
    return _build(path, 1, dim, datatype, bitpix, pixdim, vox_offset, slope, inter, qform, sform,
                  srow, e, gzipped, N1_MIN_OFFSET)


def _parse_n2(path: Path, raw: bytes, e: str, gzipped: bool) -> NiftiHeader:
    _check_magic(path, raw[4:12], (b"n+2\0\r\n\x1a\n", b"ni2\0\r\n\x1a\n"))
    datatype, bitpix = struct.unpack_from(e + "2h", raw, 12)
    dim = struct.unpack_from(e + "8q", raw, 16)
    pixdim = struct.unpack_from(e + "8d", raw, 104)
    vox_offset = struct.unpack_from(e + "q", raw, 168)[0]
    slope, inter = struct.unpack_from(e + "2d", raw, 176)
    qform, sform = struct.unpack_from(e + "2i", raw, 344)
    srow = tuple(struct.unpack_from(e + "4d", raw, 400 + 32 * r) for r in range(3))
    return _build(path, 2, dim, datatype, bitpix, pixdim, vox_offset, slope, inter, qform, sform,
                  srow, e, gzipped, N2_MIN_OFFSET)


def _check_magic(path: Path, magic: bytes, allowed: tuple[bytes, bytes]) -> None:
    if magic == allowed[0]:
        return
    if magic == allowed[1]:
        raise UnsupportedFormat(path, "the header says its voxels are in a separate .img file (a .hdr/.img pair)",
                                "Convert the pair into one .nii file (e.g. with SimpleITK or nibabel)")
    raise CorruptFile(path, f"the NIfTI magic string is {magic!r}, not {allowed[0]!r}", REWRITE)


def _build(path: Path, version: int, dim: tuple[int, ...], datatype: int, bitpix: int,
           pixdim: tuple[float, ...], vox_offset: float, slope: float, inter: float, qform: int,
           sform: int, srow: tuple[tuple[float, ...], ...], e: str, gzipped: bool,
           min_offset: int) -> NiftiHeader:
    ndim = dim[0]
    if not 1 <= ndim <= 7:
        raise CorruptFile(path, f"the header's dim[0] is {ndim}; NIfTI allows 1 to 7 dimensions", REWRITE)
    dims = tuple(int(d) for d in dim[1:ndim + 1])
    if any(d < 1 for d in dims):
        raise CorruptFile(path, f"the header claims dimensions {list(dims)}; every one must be at least 1",
                          REWRITE)
    if datatype not in DATATYPES:
        raise UnsupportedSeries(path, f"NIfTI datatype {datatype} is not a greyscale CT intensity",
                                "Open a greyscale CT volume in Hounsfield units")
    code, name = DATATYPES[datatype]
    dtype = np.dtype(e + code)
    if bitpix != dtype.itemsize * 8:
        raise CorruptFile(path, f"the header's bitpix {bitpix} does not match its datatype {name} "
                          f"({dtype.itemsize * 8} bits)", REWRITE)
    if not math.isfinite(vox_offset) or vox_offset != int(vox_offset) or vox_offset < min_offset:
        raise CorruptFile(path, f"the header's vox_offset {vox_offset:g} is not a whole number of bytes "
                          f"at or after {min_offset}", REWRITE)
    if not (math.isfinite(slope) and math.isfinite(inter)):
        raise CorruptFile(path, f"the header's intensity scaling is not a number (scl_slope {slope}, "
                          f"scl_inter {inter}), so no voxel has a known Hounsfield value", REWRITE)
    space = (tuple(float(p) for p in pixdim[1:4]) + (1.0, 1.0, 1.0))[:3]
    return NiftiHeader(version, dims, dtype, name, int(vox_offset), (space[0], space[1], space[2]),
                       float(pixdim[0]), float(slope), float(inter), int(qform), int(sform),
                       tuple(tuple(float(v) for v in r) for r in srow), gzipped)


def grid_from_sform_if_pixdim_bad(path: Path, hdr: NiftiHeader) -> tuple[np.ndarray | None, str]:
    """Decide the zero / negative / non-finite ``pixdim`` cases from what NIfTI says.

    NIfTI keeps voxel sizes positive (``pixdim[1..3] > 0``); a flipped slice axis is ``qfac`` in
    ``pixdim[0]`` or part of the sform. Readers quietly turn a zero size into 1 mm and some read a
    negative one as a flip. Where the header has a usable sform (``sform_code > 0``), NIfTI's
    method 3 maps voxels to mm from the sform alone, without ``pixdim``, so the grid is certain:
    the sform's affine is returned with a warning. Without one, the grid is unknown: refused.
    Returns ``(None, "")`` when every size is positive.
    """
    axes = "xyz"
    bad = [(k, v) for k, v in enumerate(hdr.pixdim) if not (math.isfinite(v) and v > 0)]
    if not bad:
        return None, ""
    listed = ", ".join(f"pixdim[{k + 1}] ({axes[k]}) = {v:g}" for k, v in bad)
    sform = hdr.sform_lps()
    if sform is not None:
        spacing = np.linalg.norm(sform[:3, :3], axis=0)
        return sform, (f"{listed} in the header is not a positive voxel size; the grid is taken from the "
                       f"sform (sform_code {hdr.sform_code}), which defines it without pixdim: voxel size "
                       f"{' × '.join(f'{s:.4g}' for s in spacing)} mm")
    if all(math.isfinite(v) and v < 0 for _, v in bad):
        problem = (f"the header's voxel size {listed} is negative; NIfTI keeps sizes positive and the "
                   "direction in qfac or the sform, and there is no sform, so which way the axis runs "
                   "is ambiguous")
    else:
        problem = (f"the header's voxel size {listed} is not a positive number and there is no sform "
                   "giving the grid, so the distance between voxels is unknown")
    raise CorruptFile(path, problem, "Write the NIfTI file again with the scan's real (positive) voxel "
                      "spacing, e.g. with dcm2niix from the DICOM series")
