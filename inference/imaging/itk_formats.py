"""NIfTI (.nii, .nii.gz) and MetaImage (.mhd + .raw/.zraw, .mha) through SimpleITK.

Before SimpleITK reads anything, the header is parsed here (:mod:`~inference.imaging.nifti_header`,
:mod:`~inference.imaging.metaimage_header`) and checked against the bytes of the file
(:mod:`~inference.imaging.voxel_data`): sizes against byte counts, the decompressed length of a
gzip/zlib stream, finite voxels, finite intensity scaling, positive spacing. What does not hold is
refused with an ImagingError naming the file; nothing is allocated from an unchecked claim.

SimpleITK hands back the geometry in LPS already (its NIfTI reader turns the RAS sform/qform of
the file into ITK's LPS frame), so origin, spacing and direction go straight into the affine. The
one exception: a NIfTI whose ``pixdim`` is zero or negative but whose sform is usable gets the
sform's grid (see :func:`~inference.imaging.nifti_header.grid_from_sform_if_pixdim_bad`), with a
warning. Voxels become int16 Hounsfield units: integers are range-checked, floats rounded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from inference.domain.progress import Progress
from inference.imaging.errors import CorruptFile, UnsupportedFormat, UnsupportedSeries
from inference.imaging.metaimage_header import MetaHeader, read_metaimage_header
from inference.imaging.nifti_header import grid_from_sform_if_pixdim_bad, read_nifti_header
from inference.imaging.voxel_data import check_metaimage_data, check_nifti_data
from inference.imaging.volume import SeriesInfo, Volume

INT16_MIN, INT16_MAX = -32768, 32767


def _read(path: Path) -> Any:
    import SimpleITK as sitk

    try:
        return sitk.ReadImage(str(path))
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        fix = ("Check that the .raw/.zraw file named by ElementDataFile sits next to the .mhd file and "
               "is complete" if path.suffix.lower() == ".mhd" else "The file is truncated or damaged: "
               "export it again")
        raise CorruptFile(path, f"the image cannot be read ({first[:200]})", fix) from exc


def _as_int16(arr: np.ndarray, path: Path, warnings: list[str]) -> np.ndarray:
    if arr.dtype == np.int16:
        return np.array(arr, dtype=np.int16, copy=True)
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)):
            raise CorruptFile(path, "the image holds NaN or infinite values (after its intensity scaling)",
                              "Export the scan again; a scan is not screened with voxels of unknown density")
        arr = np.rint(arr)
    elif not np.issubdtype(arr.dtype, np.integer):
        raise UnsupportedSeries(path, f"voxel type {arr.dtype} is not a CT intensity",
                                "Open a greyscale CT volume in Hounsfield units")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < INT16_MIN or hi > INT16_MAX:
        warnings.append(f"values {lo:g}..{hi:g} clipped to the int16 range")
    return np.clip(arr, INT16_MIN, INT16_MAX).astype(np.int16)


def _check_metaimage_geometry(path: Path, hdr: MetaHeader) -> None:
    n = len(hdr.dims)
    if not all(np.isfinite(s) and s > 0 for s in hdr.spacing):
        raise CorruptFile(path, f"the header's ElementSpacing {list(hdr.spacing)} is not positive along "
                          "every axis, so the distance between voxels is unknown",
                          "Correct ElementSpacing to the scan's real (positive) voxel spacing in mm")
    matrix = np.asarray(hdr.matrix, dtype=np.float64).reshape(n, n)
    if not np.all(np.isfinite(matrix)) or abs(np.linalg.det(matrix)) < 1e-6 \
            or not np.all(np.isfinite(hdr.origin)):
        raise CorruptFile(path, f"the header's TransformMatrix {list(hdr.matrix)} or Offset {list(hdr.origin)} "
                          "is not a valid orientation", "Correct the header or write the MetaImage again")


#: voxel sizes outside this range (mm) are not a CT's: a unit error (NIfTI's xyzt_units in microns
#: or metres) or a damaged header
SPACING_RANGE_MM = (1e-3, 1e3)


def _check_plausible_grid(path: Path, affine: np.ndarray) -> None:
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    lo, hi = SPACING_RANGE_MM
    direction = affine[:3, :3] / np.where(spacing > 0, spacing, 1.0)
    if not np.all(np.isfinite(affine)) or np.any(spacing < lo) or np.any(spacing > hi) \
            or abs(np.linalg.det(direction)) < 1e-3:
        raise CorruptFile(path, f"the voxel grid read from the header (voxel size {spacing.tolist()} mm) is not "
                          f"a CT's: sizes must lie within {lo:g}..{hi:g} mm on independent axes",
                          "Check the header's spacing and units (e.g. NIfTI xyzt_units) or export the "
                          "scan again")


def _check_header(p: Path, warnings: list[str]) -> tuple[tuple[int, ...], np.ndarray | None]:
    """Header and data checks before SimpleITK reads: the dims promised, and a grid where the
    header's sform has to replace a bad pixdim."""
    if p.name.lower().endswith((".nii", ".nii.gz")):
        hdr = read_nifti_header(p)
        if hdr.version == 2:  # SimpleITK's NIfTI reader (nifti1_io) does not read NIfTI-2
            raise UnsupportedFormat(p, f"this is a NIfTI-2 file ({hdr.describe}), which the reader does not read",
                                    "Convert it to NIfTI-1 (e.g. nibabel.Nifti1Image or dcm2niix)")
        check_nifti_data(p, hdr)
        grid, warning = grid_from_sform_if_pixdim_bad(p, hdr)
        if warning:
            warnings.append(warning)
        return hdr.dims, grid
    meta = read_metaimage_header(p)
    _check_metaimage_geometry(p, meta)
    check_metaimage_data(p, meta)
    return meta.dims, None


def load_itk(path: str | Path, progress: Progress | None = None) -> Volume:
    p = Path(path)
    if progress is not None:
        progress(0.0, f"reading {p.name}")
    warnings: list[str] = []
    dims, grid = _check_header(p, warnings)
    img = _read(p)
    if tuple(img.GetSize()) + (1,) * (len(dims) - img.GetDimension()) != dims:
        raise CorruptFile(p, f"the reader found {list(img.GetSize())} voxels where the header says {list(dims)}",
                          "Write the file again from the original scan")
    if img.GetNumberOfComponentsPerPixel() != 1:
        raise UnsupportedSeries(p, f"the image has {img.GetNumberOfComponentsPerPixel()} components per voxel",
                                "Open a greyscale CT volume")
    if img.GetDimension() == 4 and img.GetSize()[3] == 1:
        import SimpleITK as sitk

        img = sitk.Extract(img, [*img.GetSize()[:3], 0], [0, 0, 0, 0])
    if img.GetDimension() != 3:
        raise UnsupportedSeries(p, f"the image is {img.GetDimension()}-dimensional, not a 3D volume",
                                "Open a 3D CT volume")
    import SimpleITK as sitk

    voxels = _as_int16(sitk.GetArrayViewFromImage(img), p, warnings)  # (z, y, x)
    spacing = np.asarray(img.GetSpacing(), dtype=np.float64)
    direction = np.asarray(img.GetDirection(), dtype=np.float64).reshape(3, 3)
    origin = np.asarray(img.GetOrigin(), dtype=np.float64)
    if grid is not None:
        affine = grid
        spacing = np.linalg.norm(grid[:3, :3], axis=0)
    else:
        if not (np.all(np.isfinite(spacing)) and np.all(np.isfinite(direction)) and np.all(np.isfinite(origin))) \
                or np.any(spacing <= 0) or abs(np.linalg.det(direction)) < 1e-6:
            raise CorruptFile(p, f"the image geometry is degenerate (spacing {spacing.tolist()}, origin "
                              f"{origin.tolist()})", "Export the scan again with its real voxel spacing "
                              "and orientation")
        affine = Volume.make_affine((spacing[0], spacing[1], spacing[2]), (origin[0], origin[1], origin[2]),
                                    direction)
    _check_plausible_grid(p, affine)
    if float(voxels.min()) > -500:
        warnings.append("no voxel is below -500 HU: check that the file holds Hounsfield units")
    info = SeriesInfo(modality="CT", series_description=p.name, source=str(p),
                      slice_thickness_mm=float(spacing[2]), warnings=tuple(warnings))
    if progress is not None:
        progress(1.0, f"read {p.name}")
    return Volume(voxels, affine, info)
