"""Volumes for the aerated-lung check (imported by name): a head-like CT without lungs, a whole
phantom chest (both lungs inside the scan, about 2,200 mL of lung) and a slab cut out of it.

Coarse voxels (2.5 and 4 mm) and a small chest keep detection on them to a few seconds (the
classical detector works on 1 mm grids of the lungs: a 4,000 mL chest takes 6 s).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from inference.imaging import SeriesInfo, Volume
from inference.phantom import make_phantom

HEAD_SPACING = 2.5
CHEST_SHAPE_ZYX = (60, 75, 75)  # 240 × 300 × 300 mm
CHEST_SPACING_ZYX = (4.0, 4.0, 4.0)


def head_ct(source: str = "head-ct") -> Volume:
    """Skull (700 HU) around brain (35 HU), two air-filled maxillary sinuses, air outside: soft
    tissue and bone, and no lung."""
    z, y, x = np.mgrid[0:72, 0:80, 0:64].astype(np.float32)
    r = ((x - 32) / 26) ** 2 + ((y - 40) / 34) ** 2 + ((z - 36) / 30) ** 2
    hu = np.full(r.shape, -1000.0, np.float32)
    hu[r < 1] = 700.0
    hu[r < 0.85] = 35.0
    for cx in (24, 40):  # about 8 mL each
        hu[((x - cx) / 5) ** 2 + ((y - 64) / 5) ** 2 + ((z - 24) / 5) ** 2 < 1] = -1000.0
    hu += np.random.default_rng(0).normal(0.0, 10.0, hu.shape)
    affine = Volume.make_affine((HEAD_SPACING,) * 3, (-80.0, -100.0, -90.0))
    return Volume(hu.astype(np.int16), affine, SeriesInfo(source=source, modality="CT"))


def chest(seed: int = 1) -> Volume:
    """A whole phantom chest: about 2,200 mL of aerated lung."""
    return make_phantom(seed, CHEST_SHAPE_ZYX, CHEST_SPACING_ZYX, nodules=[], noise_hu=10.0).volume


def slab(volume: Volume, mm: float = 60.0, source: str = "chest-slab") -> Volume:
    """The middle ``mm`` of ``volume`` along z."""
    n = int(round(mm / volume.spacing_zyx[0]))
    first = (volume.shape[0] - n) // 2
    affine = np.array(volume.affine, float)
    affine[:3, 3] = volume.index_to_world((first, 0, 0))
    voxels = np.ascontiguousarray(volume.voxels[first:first + n])
    return Volume(voxels, affine, replace(volume.info, source=source))


def write_image(volume: Volume, path: Path) -> Path:
    """``volume`` as a NIfTI or MetaImage file (by the suffix of ``path``)."""
    img = sitk.GetImageFromArray(np.asarray(volume.voxels))
    img.SetSpacing(volume.spacing_xyz)
    img.SetOrigin(volume.origin)
    img.SetDirection(tuple(float(v) for v in volume.direction.ravel()))
    sitk.WriteImage(img, str(path))
    return path
