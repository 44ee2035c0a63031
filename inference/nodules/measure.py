"""Sizes of a segmented nodule: axial long/short axis, mean and 3D diameter, volume, HU.

Axes are measured on the axial slice where the nodule is largest. Their endpoints are first found
on the mask's pixel centres, then moved to the sub-voxel edge: the point along the axis where the
(bilinearly interpolated) image crosses the segmentation threshold. The volume counts interior
voxels whole and the boundary shell by its partial-volume fraction (HU between lung and nodule).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import ndimage as ndi
from scipy.spatial import ConvexHull, QhullError

from inference.domain.nodule import Measurement

from .segment import Segmentation

#: two chord ends in (row, col) index coordinates of one slice
Ends2D = tuple[np.ndarray, np.ndarray]
#: two chord ends in (z, y, x) index coordinates of the crop
Ends3D = tuple[tuple[float, float, float], tuple[float, float, float]]

STUB_MAX_MM = 1.5  # widest protrusion (vessel stub) left out of the axes: about 3 mm


def _edge(img: np.ndarray, inside: np.ndarray, direction: np.ndarray, threshold: float,
          step: float = 0.05, reach: float = 1.0) -> np.ndarray:
    """From the boundary pixel centre ``inside`` (index coords) along ``direction`` (one unit = one
    pixel), the interpolated point where the image crosses ``threshold``, searched within
    ``reach`` pixels; where a neighbouring structure keeps the image above the threshold, the
    pixel's own edge (half a pixel out) is taken."""
    ts = np.arange(-reach, reach + step / 2, step)
    pts = inside[None, :] + ts[:, None] * direction[None, :]
    vals = ndi.map_coordinates(img, pts.T, order=1, mode="nearest")
    above = vals >= threshold
    i0 = int(np.argmin(np.abs(ts)))
    j = i0
    if above[i0]:
        while j + 1 < len(ts) and above[j + 1]:
            j += 1
        if j + 1 >= len(ts):
            return inside + 0.5 * direction
    else:  # the pixel centre is below the threshold (smoothing): walk back inwards
        while j > 0 and not above[j]:
            j -= 1
        if not above[j]:
            return inside
    v0, v1 = vals[j], vals[j + 1]
    frac = 0.0 if v0 == v1 else (v0 - threshold) / (v0 - v1)
    return pts[j] + frac * (pts[j + 1] - pts[j])


def _to_mask_end(mask: np.ndarray, frm: np.ndarray, to: np.ndarray, limit: float = 6.0) -> np.ndarray:
    """Walk from ``to`` away from ``frm`` (index coords) while the mask holds; the last point in."""
    u = to - frm
    n = np.linalg.norm(u)
    if n == 0:
        return to
    u = u / n
    ts = np.arange(0.0, limit, 0.1)
    pts = to[None, :] + ts[:, None] * u[None, :]
    idx = np.round(pts).astype(int)
    ok = np.all((idx >= 0) & (idx < mask.shape), axis=1)
    inside = np.zeros(len(ts), bool)
    inside[ok] = mask[tuple(idx[ok].T)]
    if not inside[0]:
        return to
    last = int(np.argmin(inside)) - 1 if not inside.all() else len(ts) - 1
    return np.round(pts[last]) if last > 0 else to


def _chord(img: np.ndarray, a: np.ndarray, b: np.ndarray, threshold: float, sp: np.ndarray,
           mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Refine both ends of the chord a→b (index coords) to the threshold crossing; with ``mask``
    the ends first move outwards along the chord to the mask's last pixel."""
    if mask is not None:
        a, b = _to_mask_end(mask, b, a), _to_mask_end(mask, a, b)
    d_mm = (b - a) * sp
    n = np.linalg.norm(d_mm)
    if n == 0:
        u = np.zeros_like(a)
        u[-1] = 1.0
    else:
        u = (d_mm / n) / sp
    u_unit = u / np.linalg.norm(u * sp)  # one unit of t = 1 mm
    ea = _edge(img, a, -u_unit * float(sp.min()), threshold)
    eb = _edge(img, b, u_unit * float(sp.min()), threshold)
    return ea, eb


def _axes_2d(mask2d: np.ndarray, img2d: np.ndarray, threshold: float, sp2: np.ndarray,
             full2d: np.ndarray | None = None) -> tuple[float, float, Ends2D, Ends2D]:
    """Long and short axis (mm) and their endpoints (row, col index coords) on one slice;
    directions from ``mask2d``, extents up to the edge of ``full2d`` (default: the same)."""
    ys, xs = np.nonzero(mask2d)
    pts = np.stack([ys, xs], 1).astype(float)
    if len(pts) == 1:
        p = pts[0]
        ends = [(p - [0, 0.5], p + [0, 0.5]), (p - [0.5, 0], p + [0.5, 0])]
        return float(sp2[1]), float(sp2[0]), ends[0], ends[1]
    mm = pts * sp2
    try:
        hull = ConvexHull(mm).vertices if len(pts) >= 4 else np.arange(len(pts))
    except QhullError:
        hull = np.arange(len(pts))
    h = mm[hull]
    d2 = ((h[:, None, :] - h[None, :, :]) ** 2).sum(-1)
    i, j = np.unravel_index(int(d2.argmax()), d2.shape)
    a, b = pts[hull[i]], pts[hull[j]]
    a, b = _chord(img2d, a, b, threshold, sp2, full2d)
    long_mm = float(np.linalg.norm((b - a) * sp2))
    u = (b - a) * sp2
    u = u / (np.linalg.norm(u) or 1.0)
    v = np.array([-u[1], u[0]])
    pu, pv = mm @ u, mm @ v
    width = float(sp2.min())
    bins = np.floor((pu - pu.min()) / width).astype(int)
    best, best_len = (0.0, 0.0, 0.0), -1.0
    for bi in np.unique(bins):
        sel = bins == bi
        ext = pv[sel].max() - pv[sel].min()
        if ext > best_len:
            best_len, best = ext, (pu[sel].mean(), pv[sel].min(), pv[sel].max())
    cu, vmin, vmax = best
    p1 = (cu * u + vmin * v) / sp2
    p2 = (cu * u + vmax * v) / sp2
    if np.allclose(p1, p2):
        p1, p2 = p1 - 0.5 * v / sp2 * width, p2 + 0.5 * v / sp2 * width
    c, d = _chord(img2d, p1, p2, threshold, sp2, full2d)
    short_mm = float(np.linalg.norm((d - c) * sp2))
    return long_mm, min(short_mm, long_mm), (a, b), (c, d)


def _max_3d(mask: np.ndarray, img: np.ndarray, threshold: float, sp: np.ndarray) -> float:
    surface = mask & ~ndi.binary_erosion(mask)
    pts = np.argwhere(surface).astype(float)
    if len(pts) < 2:
        return float(sp.max())
    mm = pts * sp
    try:
        hv = ConvexHull(mm).vertices if len(pts) >= 5 else np.arange(len(pts))
    except QhullError:
        hv = np.arange(len(pts))
    h = mm[hv]
    d2 = ((h[:, None, :] - h[None, :, :]) ** 2).sum(-1)
    i, j = np.unravel_index(int(d2.argmax()), d2.shape)
    a, b = _chord(img, pts[hv[i]], pts[hv[j]], threshold, sp)
    return float(np.linalg.norm((b - a) * sp))


def partial_volume_mm3(seg: Segmentation, mask: np.ndarray | None = None,
                       core_hu: float | None = None) -> float:
    """Interior voxels count 1, the one-voxel shell around the border its HU fraction between
    lung background and the nodule's core density; dense voxels of other structures count 0."""
    m = seg.mask if mask is None else mask
    sp = np.asarray(seg.crop.spacing_zyx)
    core = seg.core_hu if core_hu is None else core_hu
    inner = ndi.binary_erosion(m)
    shell = ndi.binary_dilation(m) & ~inner & ~(seg.other_structures & ~m)
    span = max(core - seg.background_hu, 50.0)
    frac = np.clip((seg.crop.hu[shell] - seg.background_hu) / span, 0.0, 1.0)
    return float((inner.sum() + frac.sum()) * np.prod(sp))


def _without_stubs(m2: np.ndarray, sp2: np.ndarray) -> np.ndarray:
    """The slice's nodule without thin protrusions (vessel stubs): an in-plane opening with a
    disk of 30 % of the nodule's equivalent radius (at least one pixel, at most STUB_MAX_MM)."""
    r_eq = np.sqrt(m2.sum() * sp2[0] * sp2[1] / np.pi)
    r = float(np.clip(0.3 * r_eq, sp2.min(), STUB_MAX_MM))
    n = np.floor(r / sp2).astype(int)
    yy, xx = np.ogrid[-n[0]:n[0] + 1, -n[1]:n[1] + 1]
    disk = (yy * sp2[0]) ** 2 + (xx * sp2[1]) ** 2 <= r * r + 1e-9
    opened = ndi.binary_opening(m2, disk)
    if opened.sum() < 0.5 * m2.sum():
        return m2
    lab, nlab = ndi.label(opened)
    if nlab > 1:
        opened = lab == np.bincount(lab.ravel())[1:].argmax() + 1
    return opened


def axial_axes(mask: np.ndarray, img: np.ndarray, threshold: float, sp: np.ndarray,
               drop_stubs: bool = False) -> tuple[float, float, Ends3D, Ends3D, int]:
    """(long mm, short mm, long ends, short ends, slice index) on the largest axial slice;
    ends are (z, y, x) index coordinates on the crop grid."""
    k = int(mask.sum(axis=(1, 2)).argmax())
    m2 = mask[k] if not drop_stubs else _without_stubs(mask[k], sp[1:])
    lo, sh, (a, b), (c, d) = _axes_2d(m2, img[k], threshold, sp[1:], mask[k])
    z = float(k)
    return (lo, sh, ((z, float(a[0]), float(a[1])), (z, float(b[0]), float(b[1]))),
            ((z, float(c[0]), float(c[1])), (z, float(d[0]), float(d[1]))), k)


def measure(seg: Segmentation, index_to_world: Callable[[np.ndarray], np.ndarray]) -> Measurement:
    """Measurement of a segmentation; ``index_to_world`` maps scan (z, y, x) indices to LPS mm."""
    crop = seg.crop
    sp = np.asarray(crop.spacing_zyx)
    m = seg.mask
    lo, sh, long_ends, short_ends, _ = axial_axes(m, crop.smooth, seg.threshold_hu, sp)
    off = np.asarray(crop.origin_zyx, float)

    def world(p: tuple[float, float, float]) -> tuple[float, float, float]:
        x, y, z = (round(float(v), 2) for v in index_to_world(np.asarray(p) + off))
        return x, y, z

    lo_r, sh_r = round(lo, 1), round(sh, 1)
    max3d = max(_max_3d(m, crop.smooth, seg.threshold_hu, sp), lo)
    vals = crop.hu[m]
    solid_mm = None
    if seg.solid_mask is not None and seg.solid_mask.any() and seg.solid_threshold_hu is not None:
        slo, ssh, *_ = axial_axes(seg.solid_mask, crop.smooth, seg.solid_threshold_hu, sp)
        solid_mm = round(0.5 * (round(slo, 1) + round(ssh, 1)), 1)
    elif seg.solid_mask is not None:
        solid_mm = 0.0
    return Measurement(
        long_axis_mm=lo_r, short_axis_mm=min(sh_r, lo_r),
        mean_diameter_mm=round(0.5 * (lo_r + min(sh_r, lo_r)), 1),
        max_3d_diameter_mm=round(max3d, 1),
        volume_mm3=round(partial_volume_mm3(seg), 1),
        mean_hu=round(float(vals.mean()), 1), max_hu=round(float(vals.max()), 1),
        solid_component_mm=solid_mm,
        long_axis_lps=(world(long_ends[0]), world(long_ends[1])),
        short_axis_lps=(world(short_ends[0]), world(short_ends[1])),
    )
