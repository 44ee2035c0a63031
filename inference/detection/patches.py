"""Patches around world points for the candidate CNN: two isotropic cubes, fine (1 mm) and
coarse (2 mm, twice the context), HU windowed to 0..1. Torch-free (numpy/scipy)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from inference.imaging.volume import Volume

FINE_MM = 1.0
COARSE_MM = 2.0


def grid_offsets(size: int, spacing_mm: float) -> np.ndarray:
    """(size^3, 3) offsets in mm (x, y, z order) of a cube centred on 0, ordered (z, y, x)."""
    r = (np.arange(size) - (size - 1) / 2) * spacing_mm
    z, y, x = np.meshgrid(r, r, r, indexing="ij")
    return np.stack([x.ravel(), y.ravel(), z.ravel()], -1)


def window(hu: np.ndarray, hu_window: tuple[float, float]) -> np.ndarray:
    lo, hi = hu_window
    return np.clip((hu - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def sample_world(volume: Volume, world_xyz: np.ndarray, fill: float = -1000.0) -> np.ndarray:
    """Trilinear HU at (N, 3) world points (``fill`` outside)."""
    idx = volume.world_to_index(world_xyz)
    return ndimage.map_coordinates(volume.voxels, idx.T, order=1, mode="constant", cval=fill,
                                   prefilter=False).astype(np.float32)


def extract_patches(volume: Volume, centres_xyz: np.ndarray, size: int = 32,
                    hu_window: tuple[float, float] = (-1000.0, 400.0)) -> np.ndarray:
    """(N, 2, size, size, size) float32 patches (channel 0 fine, 1 coarse) around world centres."""
    centres = np.atleast_2d(np.asarray(centres_xyz, float))
    out = np.empty((len(centres), 2, size, size, size), np.float32)
    for ch, sp in enumerate((FINE_MM, COARSE_MM)):
        off = grid_offsets(size, sp)
        for i, c in enumerate(centres):
            hu = sample_world(volume, off + c)
            out[i, ch] = window(hu, hu_window).reshape(size, size, size)
    return out
