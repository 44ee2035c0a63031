"""Side and cranio-caudal zone of a nodule from the lung mask, and a quick local lung mask.

The zone is an approximation of the lobe: the lungs' cranio-caudal extent (on the nodule's side)
split in thirds — upper, middle, lower. It is not a lobe segmentation; the note says so.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .types import Side, Zone

ZONE_NOTE = ("zone = third of the lung's cranio-caudal extent on that side "
             "(an approximation of the lobe, not a lobe segmentation)")


def estimate_lung_mask(volume) -> np.ndarray:
    """Threshold-based lung mask (air inside the body), used where no better mask is given:
    air < -400 HU on a coarse grid, minus the air connected to the in-plane border (outside the
    body), keeping components larger than 1 % of the largest. Returned on the full grid."""
    vox = volume.voxels
    sz, sy, sx = volume.spacing_zyx
    fz = max(1, int(round(3.0 / sz)))
    fy, fx = max(1, int(round(3.0 / sy))), max(1, int(round(3.0 / sx)))
    small = vox[::fz, ::fy, ::fx] < -400
    outside = np.zeros_like(small)
    for k in range(small.shape[0]):
        lab, _ = ndi.label(small[k])
        edge = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))
        outside[k] = np.isin(lab, edge[edge > 0])
    inner = small & ~outside
    lab, n = ndi.label(inner)
    if n:
        sizes = np.bincount(lab.ravel())[1:]
        keep = np.flatnonzero(sizes >= max(0.01 * sizes.max(), 8)) + 1
        inner = np.isin(lab, keep)
    full = np.repeat(np.repeat(np.repeat(inner, fz, 0), fy, 1), fx, 2)
    return full[:vox.shape[0], :vox.shape[1], :vox.shape[2]]


_last: list = [None, None, None]  # (lung array, affine bytes, world points) of the last call


def _lung_points(volume, lung: np.ndarray) -> np.ndarray:
    """World points of a coarse sample of the lung mask (cached for the last mask used)."""
    key = volume.affine.tobytes()
    if _last[0] is lung and _last[1] == key:
        return _last[2]
    zz, yy, xx = np.nonzero(lung[:, ::4, ::4])
    w = volume.index_to_world(np.stack([zz, yy * 4, xx * 4], 1))
    _last[:] = [lung, key, w]
    return w


def locate(volume, center_xyz, lung: np.ndarray | None) -> tuple[Side | None, Zone | None, str]:
    """Side (LPS +x = patient's left) and zone of a world point, and how they were found."""
    x, _, z = (float(v) for v in center_xyz)
    if lung is None or not lung.any():
        lo, hi = volume.world_bounds()
        mid = 0.5 * (lo[0] + hi[0])
        side = Side.LEFT if x > mid else Side.RIGHT
        return side, None, ("side from the scan's centre line (no lungs found); "
                            "zone unknown")
    w = _lung_points(volume, lung)
    mid = float(np.median(w[:, 0]))
    side = Side.LEFT if x > mid else Side.RIGHT
    own = w[(w[:, 0] > mid) == (side is Side.LEFT)]
    if len(own) == 0:
        own = w
    zmin, zmax = float(own[:, 2].min()), float(own[:, 2].max())
    if zmax - zmin < 1e-6:
        return side, None, "side from the lung mask's midline; zone unknown (flat lung mask)"
    f = (z - zmin) / (zmax - zmin)
    zone = Zone.UPPER if f > 2 / 3 else Zone.LOWER if f < 1 / 3 else Zone.MIDDLE
    return side, zone, f"side from the lung mask's midline; {ZONE_NOTE}"


def lung_mask_for(volume) -> tuple[np.ndarray, str]:
    """The project's lung mask when available, otherwise the local estimate."""
    try:
        from inference.imaging.lung_mask import lung_mask  # written alongside; optional here
    except ImportError:
        return estimate_lung_mask(volume), "threshold estimate"
    return np.asarray(lung_mask(volume), bool), "lung mask"
