"""NIfTI (.nii, .nii.gz) and MetaImage (.mhd + .raw/.zraw, .mha) through SimpleITK.

SimpleITK hands back the geometry in LPS already (its NIfTI reader turns the RAS sform/qform of
the file into ITK's LPS frame), so origin, spacing and direction go straight into the affine.
Voxels become int16 Hounsfield units: integers are range-checked, floats rounded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from inference.domain.progress import Progress
from inference.imaging.errors import CorruptFile, UnsupportedSeries
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
            raise CorruptFile(path, "the image holds NaN or infinite values", "Export the scan again")
        arr = np.rint(arr)
    elif not np.issubdtype(arr.dtype, np.integer):
        raise UnsupportedSeries(path, f"voxel type {arr.dtype} is not a CT intensity",
                                "Open a greyscale CT volume in Hounsfield units")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < INT16_MIN or hi > INT16_MAX:
        warnings.append(f"values {lo:g}..{hi:g} clipped to the int16 range")
    return np.clip(arr, INT16_MIN, INT16_MAX).astype(np.int16)


def load_itk(path: str | Path, progress: Progress | None = None) -> Volume:
    p = Path(path)
    if progress is not None:
        progress(0.0, f"reading {p.name}")
    img = _read(p)
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

    warnings: list[str] = []
    voxels = _as_int16(sitk.GetArrayViewFromImage(img), p, warnings)  # (z, y, x)
    spacing = np.asarray(img.GetSpacing(), dtype=np.float64)
    direction = np.asarray(img.GetDirection(), dtype=np.float64).reshape(3, 3)
    if np.any(spacing <= 0) or abs(np.linalg.det(direction)) < 1e-6:
        raise CorruptFile(p, f"the image geometry is degenerate (spacing {spacing.tolist()})",
                          "Export the scan again with its real voxel spacing")
    affine = Volume.make_affine(tuple(spacing), tuple(img.GetOrigin()), direction)
    if float(voxels.min()) > -500:
        warnings.append("no voxel is below -500 HU: check that the file holds Hounsfield units")
    info = SeriesInfo(modality="CT", series_description=p.name, source=str(p),
                      slice_thickness_mm=float(spacing[2]), warnings=tuple(warnings))
    if progress is not None:
        progress(1.0, f"read {p.name}")
    return Volume(voxels, affine, info)
