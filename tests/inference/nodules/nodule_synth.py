"""Synthetic nodules of known size for the nodule tests: an ellipsoid (solid, ground-glass or
part-solid) rendered with partial volume (supersampled), blurred by a CT-like PSF and given
low-dose noise, on lung parenchyma with optional chest wall and an attached vessel."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from inference.imaging.volume import SeriesInfo, Volume

LUNG_HU, SOLID_HU, GGN_HU, WALL_HU = -860.0, 30.0, -620.0, 40.0


def _fraction(shape, sp, center_mm, radii_mm, sub=3):
    """Fraction of each voxel inside the ellipsoid (supersampled sub^3 per voxel near it).
    Voxel i spans [(i - 0.5) * sp, (i + 0.5) * sp] mm from the grid origin."""
    sp, c, rad = (np.asarray(v, float) for v in (sp, center_mm, radii_mm))
    lo = np.maximum(np.floor((c - rad) / sp).astype(int) - 1, 0)
    hi = np.minimum(np.ceil((c + rad) / sp).astype(int) + 2, shape)
    off = (np.arange(sub) + 0.5) / sub - 0.5
    axes = [((np.arange(a, b)[:, None] + off[None, :]).ravel()) * s for a, b, s in zip(lo, hi, sp, strict=True)]
    gz, gy, gx = np.meshgrid(*axes, indexing="ij")
    inside = (((gz - c[0]) / rad[0]) ** 2 + ((gy - c[1]) / rad[1]) ** 2
              + ((gx - c[2]) / rad[2]) ** 2) <= 1.0
    n = hi - lo
    out = np.zeros(shape)
    out[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] = inside.reshape(
        n[0], sub, n[1], sub, n[2], sub).mean(axis=(1, 3, 5))
    return out


def make_nodule_volume(diameter_mm=10.0, kind="solid", *, spacing=(1.25, 0.7, 0.7), size_mm=None,
                       elong=(1.0, 1.0, 1.0), solid_fraction=0.5, wall=False, vessel=False,
                       calcified=False, noise=20.0, seed=0, age=None, sex=""):
    """(Volume, centre LPS xyz, true volume mm3). ``diameter_mm`` is the ellipsoid's mean
    axial diameter when ``elong`` is (1, 1, 1); radii are diameter/2 * elong (z, y, x)."""
    sp = np.asarray(spacing, float)
    size_mm = size_mm or max(40.0, 1.3 * diameter_mm * max(elong) + 16.0)
    shape = tuple(int(round(size_mm / s)) for s in sp)
    c = np.asarray(shape) * sp / 2.0
    radii = np.asarray(elong) * diameter_mm / 2.0
    hu = np.full(shape, LUNG_HU)
    if wall:  # chest wall: dense half-space at x >= centre + radius (the nodule touches it)
        xs = np.arange(shape[2]) * sp[2]
        hu[:, :, xs >= c[2] + radii[2] * 0.8] = WALL_HU
    if vessel:  # a 2.4 mm vessel along y through the nodule's side
        zz, xx = np.meshgrid(np.arange(shape[0]) * sp[0], np.arange(shape[2]) * sp[2],
                             indexing="ij")
        tube = ((zz - c[0]) ** 2 + (xx - (c[2] - radii[2] * 0.6)) ** 2) <= 1.2 ** 2
        hu[tube[:, None, :].repeat(shape[1], 1)] = SOLID_HU
    f = _fraction(shape, sp, c, radii)
    if kind == "solid":
        hu = hu * (1 - f) + (400.0 if calcified else SOLID_HU) * f
    elif kind == "ground-glass":
        hu = hu * (1 - f) + GGN_HU * f
    elif kind == "part-solid":
        hu = hu * (1 - f) + GGN_HU * f
        fs = _fraction(shape, sp, c, radii * solid_fraction)
        hu = hu * (1 - fs) + SOLID_HU * fs
    else:
        raise ValueError(kind)
    hu = ndi.gaussian_filter(hu, sigma=(0.6 / sp[0] * sp[0] / 1.0 * 0.8, 0.45 / sp[1], 0.45 / sp[2]))
    rng = np.random.default_rng(seed)
    hu = hu + ndi.gaussian_filter(rng.normal(0, noise * 2.0, shape), 0.7)
    vol = Volume(np.round(hu).astype(np.int16), Volume.make_affine(tuple(sp[::-1]), (-30.0, -40.0, -100.0)),
                 SeriesInfo(source=f"synthetic:{kind}:{diameter_mm}", patient_age_years=age,
                            patient_sex=sex))
    center = tuple(float(v) for v in vol.index_to_world(c / sp))
    true_vol = 4.0 / 3.0 * np.pi * float(np.prod(radii))
    return vol, center, true_vol
