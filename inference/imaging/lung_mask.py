"""Lung segmentation by threshold and connectivity (no learning): ``lung_mask`` and ``split_lungs``.

Steps, on a grid coarsened to ~1.4 mm (block means, which also quiet the noise):

1. air-like voxels: below -400 HU;
2. air connected to the image border is cleared *slice by slice* (in 3D the outside air reaches the
   lungs through the trachea, and border clearing would remove them);
3. the trachea and main bronchi are removed: the very dark (< -930 HU) airway tree grown from the
   trachea at the top, or, where that growth leaks into the lungs, the small dark components near
   the midline, slice by slice;
4. the two largest remaining components are kept (the second only when it is lung-sized), unless
   they are pure gas (median below -950 HU: bowel gas in a scan without lungs); lungs that touch
   at a junction line are cut apart at the emptiest column near the midline;
5. each lung is closed (10 mm ball, on a ~3 mm grid) and its holes filled (in 3D, and small ones
   slice by slice), so that vessels, nodules, and juxta-pleural nodules against the chest wall
   lie inside.

A 1.4 mm block is air only when all its voxels are below -400 HU, so thin walls survive.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from inference.imaging.errors import ImagingError
from inference.imaging.volume import Volume

AIR_HU = -400.0
AIRWAY_HU = -930.0
COARSE_MM = 1.4
CLOSE_GRID_MM = 3.0
CLOSE_MM = 10.0
GAS_HU = -950.0  # median HU below this: bowel gas or outside air, not lung
LEAK_FRACTION = 0.08  # an airway tree larger than this share of the air is a leak
MAX_HOLE_MM2 = 1200.0  # a 30 mm nodule's section is ~700 mm^2

_PLANE = np.zeros((3, 3, 3), bool)
_PLANE[1] = True  # 8-connected within a slice, never across slices
_BALL = ndimage.generate_binary_structure(3, 1)


def _grid_factors(spacing_zyx: np.ndarray | tuple[float, ...], target_mm: float) -> tuple[int, int, int]:
    """Voxels per block along (z, y, x) for blocks of about ``target_mm``."""
    fz, fy, fx = (max(1, int(round(target_mm / float(s)))) for s in spacing_zyx)
    return fz, fy, fx


def _factors(volume: Volume, target_mm: float) -> tuple[int, int, int]:
    return _grid_factors(volume.spacing_zyx, target_mm)


def _block_reduce(vox: np.ndarray, f: tuple[int, int, int], how: str = "mean") -> np.ndarray:
    """Mean or max over f-blocks (the last partial block of each axis is padded by edge values),
    as a sum / maximum of strided views, which is much faster than a reshape-reduce."""
    pad = [(0, (-n) % k) for n, k in zip(vox.shape, f, strict=True)]
    if any(p[1] for p in pad):
        vox = np.pad(vox, pad, mode="edge")
    if f == (1, 1, 1):
        return vox.astype(np.float32)
    out: np.ndarray | None = None
    for dz in range(f[0]):
        for dy in range(f[1]):
            for dx in range(f[2]):
                part = vox[dz::f[0], dy::f[1], dx::f[2]]
                if out is None:
                    out = part.astype(np.float32)
                elif how == "max":
                    np.maximum(out, part, out=out)
                else:
                    out += part
    assert out is not None  # f has at least one block along every axis
    if how == "mean":
        out *= np.float32(1.0 / (f[0] * f[1] * f[2]))
    return out


def _upsample(mask: np.ndarray, f: tuple[int, int, int], shape: tuple[int, ...]) -> np.ndarray:
    for axis, k in enumerate(f):
        if k > 1:
            mask = np.repeat(mask, k, axis=axis)
    return np.ascontiguousarray(mask[: shape[0], : shape[1], : shape[2]])


def _clear_border_per_slice(low: np.ndarray) -> np.ndarray:
    labels, n = ndimage.label(low, structure=_PLANE)
    border = np.unique(np.concatenate([labels[:, 0, :].ravel(), labels[:, -1, :].ravel(),
                                       labels[:, :, 0].ravel(), labels[:, :, -1].ravel()]))
    keep = np.ones(n + 1, bool)
    keep[border] = False
    keep[0] = False
    return keep[labels]


def _airways(hu: np.ndarray, inner: np.ndarray, spacing: np.ndarray) -> np.ndarray:
    """Trachea and main bronchi (coarse grid)."""
    nz, ny, nx = hu.shape
    dark = inner & (hu < AIRWAY_HU)
    xs = np.nonzero(inner.any(axis=(0, 1)))[0]
    if len(xs) == 0:
        return np.zeros_like(inner)
    mid_x = (xs.min() + xs.max()) / 2.0
    near_mid = np.abs(np.arange(nx) - mid_x) * spacing[2] < 30.0
    # seed: in the top slices, a compact dark component on the midline (the trachea)
    seed = None
    for z in range(nz - 1, max(nz - 1 - int(80.0 / spacing[0]), -1), -1):
        lab, n = ndimage.label(dark[z])
        if n == 0:
            continue
        sizes = ndimage.sum_labels(np.ones_like(lab), lab, index=np.arange(1, n + 1))
        cents = ndimage.center_of_mass(np.ones_like(lab), lab, index=np.arange(1, n + 1))
        area = sizes * spacing[1] * spacing[2]
        for i, (a, (_cy, cx)) in enumerate(zip(area, cents, strict=True)):
            if 50.0 <= a <= 700.0 and abs(cx - mid_x) * spacing[2] < 25.0:
                seed = (z, lab == i + 1)
                break
        if seed is not None:
            break
    if seed is None:
        return np.zeros_like(inner)
    labels, n = ndimage.label(dark, structure=_BALL)
    pick = np.zeros(n + 1, bool)
    pick[labels[seed[0]][seed[1]]] = True
    pick[0] = False
    tree = pick[labels]
    if tree.sum() < LEAK_FRACTION * inner.sum():
        return _dilate_in_box(tree)
    # the dark growth leaked into the lungs: take only small dark components near the midline
    out = np.zeros_like(inner)
    for z in range(nz):
        lab, n = ndimage.label(dark[z] & near_mid[None, :])
        if n == 0:
            continue
        sizes = ndimage.sum_labels(np.ones_like(lab), lab, index=np.arange(1, n + 1))
        small = np.nonzero(sizes * spacing[1] * spacing[2] <= 500.0)[0] + 1
        out[z] = np.isin(lab, small)
    return _dilate_in_box(out)


def _dilate_in_box(mask: np.ndarray) -> np.ndarray:
    idx = np.nonzero(mask.any(axis=(1, 2)))[0], np.nonzero(mask.any(axis=(0, 2)))[0], \
        np.nonzero(mask.any(axis=(0, 1)))[0]
    if len(idx[0]) == 0:
        return mask
    box = tuple(slice(max(0, int(a[0]) - 2), int(a[-1]) + 3) for a in idx)
    out = np.zeros_like(mask)
    out[box] = ndimage.binary_dilation(mask[box], _BALL, iterations=2)
    return out


def _close_and_fill(comp: np.ndarray, spacing: np.ndarray) -> np.ndarray:
    """Close one lung (on a ~3 mm grid) and fill its holes slice by slice."""
    g = _grid_factors(spacing, CLOSE_GRID_MM)
    pad = int(np.ceil(CLOSE_MM / CLOSE_GRID_MM)) + 2
    zz, yy, xx = np.nonzero(comp)
    lo = [max(0, int(a.min()) - pad * k) for a, k in zip((zz, yy, xx), g, strict=True)]
    hi = [min(n, int(a.max()) + 1 + pad * k) for a, n, k in zip((zz, yy, xx), comp.shape, g, strict=True)]
    box = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
    sub = comp[box]
    any_ = _block_reduce(sub.astype(np.uint8), g, "max") > 0
    any_ = np.pad(any_, pad)
    gsp = spacing * np.asarray(g)  # exact ball closing by distance maps on the ~3 mm grid
    grown = ndimage.distance_transform_edt(~any_, sampling=gsp) <= CLOSE_MM
    closed = ndimage.distance_transform_edt(grown, sampling=gsp) > CLOSE_MM
    closed = closed[pad:-pad, pad:-pad, pad:-pad]
    added = closed & ~any_[pad:-pad, pad:-pad, pad:-pad]
    sub = sub | _upsample(added, g, sub.shape)
    # holes: background not connected to the box's border, in 3D (any size: vessels, nodules)
    # and within a slice (small ones only: not the dome of the diaphragm seen from above)
    max_hole = MAX_HOLE_MM2 / (spacing[1] * spacing[2])
    for structure, limit in ((_BALL, None), (_PLANE, max_hole)):
        lab, n = ndimage.label(~sub, structure=structure)
        fill = np.ones(n + 1, bool)
        fill[0] = False
        fill[np.unique(np.concatenate([lab[:, 0].ravel(), lab[:, -1].ravel(), lab[:, :, 0].ravel(),
                                       lab[:, :, -1].ravel(), lab[0].ravel(), lab[-1].ravel()]
                                      if limit is None else
                                      [lab[:, 0].ravel(), lab[:, -1].ravel(),
                                       lab[:, :, 0].ravel(), lab[:, :, -1].ravel()]))] = False
        if limit is not None:
            fill &= np.bincount(lab.ravel(), minlength=n + 1) <= limit
        sub |= fill[lab]
    out = np.zeros_like(comp)
    out[box] = sub
    return out


class LungMaskError(ImagingError):
    """The volume cannot hold lungs in Hounsfield units (e.g. a float saliency map)."""


def lung_mask(volume: Volume) -> np.ndarray:
    """Both lungs as a bool (z, y, x) array on the volume's grid (closed, holes filled).

    A scan without lungs (e.g. a head CT) gives an empty mask."""
    if volume.voxels.dtype != np.int16:
        raise LungMaskError(volume.info.source or "volume",
                            f"lung_mask needs int16 Hounsfield voxels, got {volume.voxels.dtype}",
                            "Pass the CT volume from inference.imaging.load, not a derived map")
    f = _factors(volume, COARSE_MM)
    hu = _block_reduce(volume.voxels, f)
    # a block is air only when all its voxels are: thin walls (the junction lines where the two
    # lungs touch) survive the coarse grid
    hu_max = _block_reduce(volume.voxels, f, "max")
    spacing = np.asarray(volume.spacing_zyx) * np.asarray(f)
    # slices run inferior → superior in a Volume from the loader when its z axis points up
    flip = volume.direction[2, 2] < 0
    if flip:
        hu, hu_max = hu[::-1], hu_max[::-1]
    inner = _clear_border_per_slice(hu_max < AIR_HU)
    inner &= ~_airways(hu, inner, spacing)
    labels, n = ndimage.label(inner, structure=_BALL)
    mask = np.zeros_like(inner)
    if n:
        sizes = np.bincount(labels.ravel())[1:]
        order = np.argsort(sizes)[::-1]
        voxel_ml = float(np.prod(spacing)) / 1000.0
        keep = [order[0]]
        if n > 1 and sizes[order[1]] >= 0.1 * sizes[order[0]] and sizes[order[1]] * voxel_ml > 150:
            keep.append(order[1])
        parts = [labels == i + 1 for i in keep]
        # lung parenchyma is about -850 HU; pure gas (bowel, a scan without lungs) is not lung
        parts = [p for p in parts if np.median(hu[p]) > GAS_HU]
        if len(parts) == 1 and _spans_midline(parts[0], inner, spacing):
            # the lungs touch (junction lines): cut them apart before closing each
            low, high = _cut_columns(parts[0])
            if min(low.sum(), high.sum()) > 0.2 * parts[0].sum():
                parts = [low, high]
        for part in parts:
            mask |= _close_and_fill(part, spacing)
    if flip:
        mask = mask[::-1]
    return _upsample(mask, f, volume.shape)


def split_lungs(mask: np.ndarray, volume: Volume) -> tuple[np.ndarray, np.ndarray]:
    """(left, right) lung by the patient's side: LPS +x is the patient's left."""
    if mask.shape != volume.shape:
        raise ValueError(f"lung mask shape {mask.shape} does not match the volume {volume.shape}")
    labels, n = ndimage.label(mask, structure=_BALL)
    sizes = np.bincount(labels.ravel())[1:] if n else np.zeros(0)
    order = np.argsort(sizes)[::-1]
    zc, yc = volume.shape[0] // 2, volume.shape[1] // 2
    cols = np.arange(volume.shape[2])
    col_x = volume.index_to_world(np.stack([np.full_like(cols, zc), np.full_like(cols, yc), cols],
                                           axis=-1))[:, 0]
    if n >= 2 and sizes[order[1]] >= 0.2 * sizes[order[0]]:
        a, b = labels == order[0] + 1, labels == order[1] + 1
        xa = volume.index_to_world(np.argwhere(a).mean(axis=0))[0]
        xb = volume.index_to_world(np.argwhere(b).mean(axis=0))[0]
        return (a, b) if xa > xb else (b, a)
    # one connected region: cut at the emptiest column between the two lungs
    low_side, high_side = _cut_columns(mask)
    return (high_side, low_side) if col_x[-1] > col_x[0] else (low_side, high_side)


def _spans_midline(part: np.ndarray, inner: np.ndarray, spacing: np.ndarray) -> bool:
    """True when ``part`` reaches 30 mm past the middle of the air-filled region on both sides."""
    xs = np.nonzero(inner.any(axis=(0, 1)))[0]
    px = np.nonzero(part.any(axis=(0, 1)))[0]
    mid = (xs.min() + xs.max()) / 2.0
    reach = 30.0 / spacing[2]
    return bool(px.min() < mid - reach and px.max() > mid + reach)


def _cut_columns(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split at the emptiest column of the middle third: (low-column side, high-column side)."""
    prof = mask.sum(axis=(0, 1))
    occupied = np.nonzero(prof)[0]
    if len(occupied) == 0:
        return np.zeros_like(mask), np.zeros_like(mask)
    lo, hi = occupied.min(), occupied.max()
    inner = slice(lo + (hi - lo) // 3, hi - (hi - lo) // 3 + 1)
    cut = inner.start + int(np.argmin(prof[inner]))
    high_side = np.zeros_like(mask)
    high_side[:, :, cut:] = mask[:, :, cut:]
    return mask & ~high_side, high_side
