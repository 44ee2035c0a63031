"""Stacking the planes of one series on a regular grid, or saying exactly why they do not fit one.

Slices are ordered by the projection of ImagePositionPatient on the slice normal (the cross product
of the row and column direction cosines of ImageOrientationPatient), never by file name or
InstanceNumber. The resulting affine keeps oblique orientations as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from inference.imaging.dicom_headers import SliceHeader
from inference.imaging.errors import (
    CorruptFile,
    DuplicateSlices,
    GantryTilt,
    InconsistentGeometry,
    MissingSlices,
    UnevenSpacing,
)

#: two planes closer than this along the normal (mm) share a position
DUPLICATE_TOL_MM = 0.01
#: relative deviation of one slice step from the mean step that makes spacing uneven
UNEVEN_REL = 0.05
#: relative deviation above which a warning (not an error) is given
JITTER_REL = 0.005
#: in-plane drift of the slice origins (mm per mm along the normal) that counts as gantry tilt
TILT_SHEAR = 0.01  # ~0.6 degrees


@dataclass(frozen=True, slots=True)
class Grid:
    """The planes in volume order and the index → LPS affine of the stack."""

    slices: tuple[SliceHeader, ...]
    affine: np.ndarray
    warnings: tuple[str, ...]


def _name(h: SliceHeader) -> str:
    return h.path if h.frame is None else f"{h.path} (frame {h.frame + 1})"


@dataclass(frozen=True, slots=True)
class Plane:
    """A slice's checked geometry (every value present)."""

    pixel_spacing: tuple[float, float]  # between rows, between columns (mm)
    orientation: tuple[float, ...]  # 6 direction cosines
    position: tuple[float, float, float]  # LPS mm


def _check_plane(h: SliceHeader) -> Plane:
    fix = "Re-export the series from the scanner or PACS with complete geometry"
    if h.position is None:
        raise CorruptFile(h.path, "the slice has no ImagePositionPatient, so it cannot be placed", fix)
    if h.orientation is None:
        raise CorruptFile(h.path, "the slice has no ImageOrientationPatient", fix)
    if h.pixel_spacing is None or min(h.pixel_spacing) <= 0:
        raise CorruptFile(h.path, f"PixelSpacing is missing or not positive ({h.pixel_spacing})", fix)
    r, c = np.asarray(h.orientation[:3]), np.asarray(h.orientation[3:])
    if abs(np.linalg.norm(r) - 1) > 1e-3 or abs(np.linalg.norm(c) - 1) > 1e-3 or abs(r @ c) > 1e-3:
        raise CorruptFile(h.path, f"ImageOrientationPatient {list(h.orientation)} is not two orthogonal "
                          "unit vectors", fix)
    return Plane(h.pixel_spacing, h.orientation, h.position)


def check_consistent(slices: Sequence[SliceHeader]) -> None:
    """Every plane has the same matrix size, pixel spacing and orientation as the first."""
    first = slices[0]
    p0 = _check_plane(first)
    for h in slices[1:]:
        p = _check_plane(h)
        fix = ("The folder mixes images of different reconstructions: keep one series per folder, "
               "or export the series again")
        if (h.rows, h.columns) != (first.rows, first.columns):
            raise InconsistentGeometry(
                _name(h), f"the slice is {h.columns}x{h.rows} pixels but {_name(first)} is "
                f"{first.columns}x{first.rows}", fix)
        if not np.allclose(p.pixel_spacing, p0.pixel_spacing, rtol=1e-4, atol=1e-4):
            raise InconsistentGeometry(
                _name(h), f"PixelSpacing {list(p.pixel_spacing)} differs from {list(p0.pixel_spacing)} "
                f"of {_name(first)}", fix)
        if not np.allclose(p.orientation, p0.orientation, atol=1e-4):
            raise InconsistentGeometry(
                _name(h), f"ImageOrientationPatient {list(p.orientation)} differs from "
                f"{list(p0.orientation)} of {_name(first)}", fix)


def stack(slices: Sequence[SliceHeader], same_pixels: Callable[[SliceHeader, SliceHeader], bool]) -> Grid:
    """Order the planes along the normal, drop identical duplicates, check gaps, spacing and tilt.

    ``same_pixels(a, b)`` tells whether two planes at one position hold identical pixels.
    """
    check_consistent(slices)
    warnings: list[str] = []
    first = slices[0]
    p0 = _check_plane(first)
    r = np.asarray(p0.orientation[:3], dtype=np.float64)
    c = np.asarray(p0.orientation[3:], dtype=np.float64)
    normal = np.cross(r, c)
    pos = np.array([_check_plane(h).position for h in slices], dtype=np.float64)
    dist = pos @ normal
    order = np.argsort(dist, kind="stable")
    kept: list[int] = [int(order[0])]
    for i in order[1:]:
        j = kept[-1]
        if abs(dist[i] - dist[j]) < DUPLICATE_TOL_MM:
            a, b = slices[j], slices[int(i)]
            if not same_pixels(a, b):
                raise DuplicateSlices(
                    _name(b), f"it has the same position ({dist[i]:.2f} mm along the slice normal) as "
                    f"{_name(a)} but different pixels",
                    "The folder holds two versions of one slice: remove the wrong file, or load the "
                    "series from a clean export")
            warnings.append(f"{_name(b)} duplicates {_name(a)} (same position, same pixels) and was skipped")
            continue
        kept.append(int(i))
    ordered = tuple(slices[i] for i in kept)
    d = dist[kept]
    n = len(ordered)
    if n == 1:
        thick = first.slice_thickness if first.slice_thickness and first.slice_thickness > 0 else 1.0
        warnings.append(f"single slice: slice spacing taken from SliceThickness ({thick:g} mm)")
        dz = thick
    else:
        steps = np.diff(d)
        dz = float((d[-1] - d[0]) / (n - 1))
        _check_steps(ordered, steps, warnings)
        _check_tilt(ordered, pos[kept], normal, d, first, max(p0.pixel_spacing))
    row_mm, col_mm = p0.pixel_spacing  # between rows (along c), between columns (along r)
    affine = np.eye(4)
    affine[:3, 0] = r * col_mm
    affine[:3, 1] = c * row_mm
    affine[:3, 2] = normal * dz
    affine[:3, 3] = pos[kept[0]]
    return Grid(ordered, affine, tuple(warnings))


def _check_steps(ordered: Sequence[SliceHeader], steps: np.ndarray, warnings: list[str]) -> None:
    step = float(np.median(steps))
    for k, s in enumerate(steps):
        ratio = s / step
        if ratio > 1.5 and abs(ratio - round(ratio)) < UNEVEN_REL * round(ratio):
            missing = int(round(ratio)) - 1
            raise MissingSlices(
                _name(ordered[k + 1]), f"{missing} slice(s) missing before this one: the step from "
                f"{_name(ordered[k])} is {s:.3f} mm where the series steps {step:.3f} mm",
                "Copy the complete series again from the scanner or PACS")
    dev = np.abs(steps - step) / step
    worst = int(np.argmax(dev))
    if dev[worst] > UNEVEN_REL:
        raise UnevenSpacing(
            _name(ordered[worst + 1]), f"slice steps range from {steps.min():.3f} to {steps.max():.3f} mm "
            f"(step before this slice: {steps[worst]:.3f} mm, usual step {step:.3f} mm)",
            "Reconstruct or export the series with a constant slice increment")
    if dev[worst] > JITTER_REL:
        warnings.append(f"slice steps vary by up to {100 * dev[worst]:.1f}% around {step:.3f} mm; "
                        "a regular grid was used")


def _check_tilt(ordered: Sequence[SliceHeader], pos: np.ndarray, normal: np.ndarray, d: np.ndarray,
                first: SliceHeader, pixel_mm: float) -> None:
    """Origins must advance along the normal; an in-plane drift means sheared (tilted) slices."""
    along = d - d[0]
    drift = (pos - pos[0]) - along[:, None] * normal[None, :]
    shear = np.linalg.norm(drift[-1]) / max(abs(along[-1]), 1e-9)
    if shear > TILT_SHEAR:
        angle = float(np.degrees(np.arctan(shear)))
        tag = f" (GantryDetectorTilt {first.gantry_tilt:g} deg)" if first.gantry_tilt else ""
        raise GantryTilt(
            _name(ordered[-1]), f"the slices are sheared by about {angle:.1f} degrees{tag}: their "
            "origins drift sideways from slice to slice",
            "Reconstruct the series without gantry tilt, or resample it to an orthogonal grid "
            "on the scanner before loading")
    # residual per-slice drift (a single slice shifted sideways)
    per_slice = np.linalg.norm(drift - np.outer(along / max(abs(along[-1]), 1e-9), drift[-1]), axis=1)
    bad = int(np.argmax(per_slice))
    if per_slice[bad] > 0.1 * pixel_mm:
        raise InconsistentGeometry(
            _name(ordered[bad]), f"the slice origin is {per_slice[bad]:.2f} mm off the line of the "
            "other slices", "Reconstruct or export the series again with consistent slice positions")
