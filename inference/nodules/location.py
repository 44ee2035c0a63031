"""Side and cranio-caudal zone of a nodule from the lung mask (:func:`inference.imaging.lung_mask.lung_mask`).

The zone is an approximation of the lobe: the lungs' cranio-caudal extent (on the nodule's side)
split in thirds — upper, middle, lower. It is not a lobe segmentation; the note says so.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from inference.domain.nodule import Side, Zone
from inference.imaging.volume import Volume

ZONE_NOTE = ("zone = third of the lung's cranio-caudal extent on that side "
             "(an approximation of the lobe, not a lobe segmentation)")


_last: list = [None, None, None]  # (lung array, affine bytes, world points) of the last call


def _lung_points(volume: Volume, lung: np.ndarray) -> np.ndarray:
    """World points of a coarse sample of the lung mask (cached for the last mask used)."""
    key = volume.affine.tobytes()
    if _last[0] is lung and _last[1] == key:
        return _last[2]
    zz, yy, xx = np.nonzero(lung[:, ::4, ::4])
    w = volume.index_to_world(np.stack([zz, yy * 4, xx * 4], 1))
    _last[:] = [lung, key, w]
    return w


def locate(volume: Volume, center_xyz: Sequence[float] | np.ndarray,
           lung: np.ndarray | None) -> tuple[Side | None, Zone | None, str]:
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
