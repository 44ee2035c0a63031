"""A small synthetic chest scan (two lungs, one solid nodule) for the service tests."""

from __future__ import annotations

import numpy as np

from inference.imaging.volume import SeriesInfo, Volume

SPACING = 2.0
NODULE_RADIUS_MM = 5.0


def small_chest(n: int = 96, depth: int = 48, seed: int = 0) -> tuple[Volume, tuple[float, float, float]]:
    """(volume, nodule centre in world LPS mm): int16 HU, 2 mm voxels, one 10 mm nodule."""
    z, y, x = np.mgrid[0:depth, 0:n, 0:n].astype(np.float32)
    v = np.full((depth, n, n), -1000.0, np.float32)
    v[((x - n / 2) / (n * 0.45)) ** 2 + ((y - n / 2) / (n * 0.35)) ** 2 < 1] = 40.0
    for cx in (n * 0.3, n * 0.7):
        lung = ((x - cx) / (n * 0.15)) ** 2 + ((y - n / 2) / (n * 0.25)) ** 2 \
            + ((z - depth / 2) / (depth * 0.42)) ** 2 < 1
        v[lung] = -850.0
    centre_idx = (depth / 2, n / 2, n * 0.3)
    r2 = ((z - centre_idx[0]) ** 2 + (y - centre_idx[1]) ** 2 + (x - centre_idx[2]) ** 2) * SPACING ** 2
    v[r2 < NODULE_RADIUS_MM ** 2] = 30.0
    v += np.random.default_rng(seed).normal(0.0, 15.0, v.shape)
    affine = Volume.make_affine((SPACING,) * 3, (-n, -n, -depth))
    info = SeriesInfo(study_instance_uid="2.25.1", series_instance_uid="2.25.1.2",
                      frame_of_reference_uid="2.25.1.3", source="synthetic:service-test")
    vol = Volume(v.astype(np.int16), affine, info)
    centre = tuple(float(c) for c in vol.index_to_world(centre_idx))
    return vol, centre  # type: ignore[return-value]
