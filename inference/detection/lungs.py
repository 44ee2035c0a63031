"""The lung region the detector works in: the shared lung mask, closed so that nodules touching
the pleura stay inside, on a coarse grid (fast), plus its bounding box in world mm.

The mask is :func:`inference.imaging.lung_mask.lung_mask`, the one lung mask of the product,
computed on the coarse grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from inference.imaging.lung_mask import lung_mask
from inference.imaging.volume import Volume

COARSE_MM = 2.0


@dataclass(frozen=True, slots=True, eq=False)
class LungRegion:
    """A boolean mask on a coarse grid (``affine`` maps its (x, y, z, 1) index to LPS mm)."""

    mask: np.ndarray
    affine: np.ndarray
    #: voxels of the source volume per coarse voxel along (z, y, x)
    step: tuple[int, int, int] = (1, 1, 1)

    def on_native_grid(self, iz: np.ndarray, iy: np.ndarray, ix: np.ndarray) -> np.ndarray:
        """The mask sampled at native (source-volume) fractional indices along each axis."""
        ax = []
        for v, st, n in zip((iz, iy, ix), self.step, self.mask.shape, strict=True):
            ax.append(np.clip(np.rint(np.asarray(v) / st).astype(int), 0, n - 1))
        return self.mask[np.ix_(*ax)]

    def contains(self, world_xyz: np.ndarray) -> np.ndarray:
        """For (N, 3) world points: True where the point lies in the (closed) lung mask."""
        pts = np.atleast_2d(np.asarray(world_xyz, float))
        ijk = (pts - self.affine[:3, 3]) @ np.linalg.inv(self.affine[:3, :3]).T
        zyx = np.rint(ijk[:, ::-1]).astype(int)
        inside = np.all((zyx >= 0) & (zyx < np.asarray(self.mask.shape)), axis=1)
        out = np.zeros(len(pts), bool)
        z, y, x = zyx[inside].T
        out[inside] = self.mask[z, y, x]
        return out

    def index_bounds(self, volume: Volume, margin_mm: float = 10.0) -> tuple[slice, slice, slice]:
        """Slices of ``volume`` (z, y, x) that cover the mask plus a margin."""
        idx = np.argwhere(self.mask)
        if len(idx) == 0:
            nz, ny, nx = volume.shape
            return slice(0, nz), slice(0, ny), slice(0, nx)
        lo, hi = idx.min(0), idx.max(0)
        corners = np.array([[a, b, c] for a in (lo[0], hi[0]) for b in (lo[1], hi[1])
                            for c in (lo[2], hi[2])], float)
        world = corners[:, ::-1] @ self.affine[:3, :3].T + self.affine[:3, 3]
        vi = volume.world_to_index(world)
        pad = margin_mm / np.asarray(volume.spacing_zyx)
        a = np.maximum(np.floor(vi.min(0) - pad), 0).astype(int)
        b = np.minimum(np.ceil(vi.max(0) + pad) + 1, volume.shape).astype(int)
        z, y, x = (slice(int(i), int(j)) for i, j in zip(a, b, strict=True))
        return z, y, x


def _coarse(volume: Volume) -> tuple[np.ndarray, np.ndarray, list[int]]:
    step = [max(1, int(round(COARSE_MM / s))) for s in volume.spacing_zyx]
    arr = volume.voxels[:: step[0], :: step[1], :: step[2]]
    aff = np.array(volume.affine, float)
    aff[:3, :3] = aff[:3, :3] * np.asarray(step[::-1], float)[None, :]
    return np.asarray(arr), aff, step


def lung_region(volume: Volume, close_mm: float = 12.0) -> LungRegion:
    """The closed lung mask on a ~2 mm grid."""
    hu, aff, step = _coarse(volume)
    coarse = Volume(np.ascontiguousarray(hu.astype(np.int16)), aff, volume.info)
    mask = np.asarray(lung_mask(coarse), bool)
    if mask.any() and close_mm > 0:
        spacing = np.linalg.norm(aff[:3, :3], axis=0)[::-1]
        outside = ndimage.distance_transform_edt(~mask, sampling=spacing)
        dil = outside <= close_mm
        inside = ndimage.distance_transform_edt(dil, sampling=spacing)
        mask = inside > close_mm
        mask |= np.asarray(_fill_slices(mask))
    return LungRegion(mask, aff, (step[0], step[1], step[2]))


def _fill_slices(mask: np.ndarray) -> np.ndarray:
    out = mask.copy()
    for z in range(mask.shape[0]):
        if mask[z].any():
            out[z] = ndimage.binary_fill_holes(mask[z])
    return out
