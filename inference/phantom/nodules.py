"""Nodules drawn into a CT volume with their exact truth: solid (lobulated), ground-glass,
part-solid (ground-glass halo around a solid core), juxta-pleural and juxta-vascular.

:func:`insert_nodule` works on any int16 HU array with an LPS affine, so it can also plant
nodules into real scans for training.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar, cast

import numpy as np

from inference.domain.nodule import NoduleType

HU_SOLID = 30.0
HU_GGO = -600.0
MIN_DIAMETER_MM = 3.0
MAX_DIAMETER_MM = 30.0
SUPERSAMPLE = 3


T = TypeVar("T")


def choose(rng: np.random.Generator, options: Sequence[T], p: Sequence[float] | None = None) -> T:
    """One of ``options`` (enum members or any objects): the same draw as ``rng.choice(list(options),
    p=p)``, typed."""
    items = np.empty(len(options), dtype=object)
    items[:] = list(options)
    return cast(T, rng.choice(items, p=p))


class PhantomError(ValueError):
    """A phantom or nodule request that cannot be satisfied; the message says what to change."""


class Attachment(Enum):
    NONE = "none"
    JUXTA_PLEURAL = "juxta-pleural"
    JUXTA_VASCULAR = "juxta-vascular"


@dataclass(frozen=True, slots=True)
class NoduleSpec:
    """What to draw. ``center`` in world LPS mm, or None for a random place in the lung."""

    center: tuple[float, float, float] | None
    diameter_mm: float
    nodule_type: NoduleType = NoduleType.SOLID
    attachment: Attachment = Attachment.NONE
    solid_fraction: float = 0.5  # diameter of a part-solid nodule's core / its diameter

    def __post_init__(self) -> None:
        if not (MIN_DIAMETER_MM <= self.diameter_mm <= MAX_DIAMETER_MM):
            raise PhantomError(
                f"NoduleSpec.diameter_mm={self.diameter_mm}: nodules are drawn from "
                f"{MIN_DIAMETER_MM} to {MAX_DIAMETER_MM} mm; pick a diameter in that range")
        if not isinstance(self.nodule_type, NoduleType):
            raise PhantomError(f"NoduleSpec.nodule_type={self.nodule_type!r}: use a NoduleType member")
        if not isinstance(self.attachment, Attachment):
            raise PhantomError(f"NoduleSpec.attachment={self.attachment!r}: use an Attachment member")
        if not (0.1 <= self.solid_fraction <= 0.9):
            raise PhantomError(f"NoduleSpec.solid_fraction={self.solid_fraction}: use 0.1 to 0.9")
        if self.center is not None and (len(self.center) != 3
                                        or not np.all(np.isfinite(self.center))):
            raise PhantomError(f"NoduleSpec.center={self.center}: give three finite LPS mm values "
                               "(x, y, z) or None for a random place in the lung")


@dataclass(frozen=True, slots=True)
class PhantomNodule:
    """The exact truth of one drawn nodule."""

    nodule_id: str
    center: tuple[float, float, float]  # world LPS mm
    diameter_mm: float
    volume_mm3: float  # of the rendered mask
    nodule_type: NoduleType
    attachment: Attachment
    solid_diameter_mm: float | None
    mask_origin_zyx: tuple[int, int, int]
    mask: np.ndarray  # bool crop of the nodule mask starting at mask_origin_zyx

    def full_mask(self, shape_zyx: tuple[int, int, int]) -> np.ndarray:
        out = np.zeros(shape_zyx, bool)
        z, y, x = self.mask_origin_zyx
        dz, dy, dx = self.mask.shape
        out[z:z + dz, y:y + dy, x:x + dx] = self.mask
        return out

    def as_dict(self) -> dict:
        return {
            "id": self.nodule_id,
            "center_lps_mm": [round(float(c), 3) for c in self.center],
            "diameter_mm": round(float(self.diameter_mm), 3),
            "volume_mm3": round(float(self.volume_mm3), 3),
            "type": self.nodule_type.value,
            "attachment": self.attachment.value,
            "solid_diameter_mm": (None if self.solid_diameter_mm is None
                                  else round(float(self.solid_diameter_mm), 3)),
        }


def _shape_radius(dirs: np.ndarray, radius: float, lobes: np.ndarray, phases: np.ndarray,
                  amp: float) -> np.ndarray:
    """Radius of a lobulated sphere along unit directions ``dirs`` (..., 3)."""
    bump = np.zeros(dirs.shape[:-1], np.float32)
    for lobe, ph in zip(lobes, phases, strict=True):
        bump += np.cos(3.0 * (dirs @ lobe) + ph)
    return radius * (1.0 + amp * bump / len(lobes))


def insert_nodule(voxels: np.ndarray, affine: np.ndarray, spec: NoduleSpec,
                  rng: np.random.Generator, *, nodule_id: str = "N1",
                  lung: np.ndarray | None = None) -> PhantomNodule:
    """Draw ``spec`` into ``voxels`` (int16 HU, (z, y, x), modified in place) and return its truth.

    ``spec.center`` must be given (use :func:`inference.phantom.make_phantom` for random places).
    ``lung`` (bool, optional) limits the truth mask of a juxta-pleural nodule to the lung side of
    the chest wall; the drawn density is limited the same way.
    """
    if spec.center is None:
        raise PhantomError("insert_nodule needs NoduleSpec.center (world LPS mm); "
                           "make_phantom chooses random centres inside the lung")
    if voxels.ndim != 3 or voxels.dtype != np.int16:
        raise PhantomError(f"insert_nodule draws into an int16 (z, y, x) HU array, "
                           f"not {voxels.dtype} {voxels.shape}; convert with astype(np.int16)")
    aff = np.asarray(affine, float)
    m = aff[:3, :3]
    minv = np.linalg.inv(m)
    center = np.asarray(spec.center, float)
    ijk = minv @ (center - aff[:3, 3])  # (col, row, slice)
    c_zyx = ijk[::-1]
    radius = spec.diameter_mm / 2.0
    # lobulation: solid nodules lobulated, ground-glass ones smoother
    amp = {NoduleType.SOLID: 0.12, NoduleType.PART_SOLID: 0.08,
           NoduleType.GROUND_GLASS: 0.05}[spec.nodule_type]
    lobes = rng.normal(size=(3, 3))
    lobes /= np.linalg.norm(lobes, axis=1, keepdims=True)
    phases = rng.uniform(0, 2 * np.pi, size=3)
    # crop: the sphere's index-space extent along each axis, plus a margin
    reach = radius * (1 + amp) + 1.0
    ext = reach * np.linalg.norm(minv, axis=1)[::-1] + 1  # (z, y, x)
    lo = np.floor(c_zyx - ext).astype(int)
    hi = np.ceil(c_zyx + ext).astype(int) + 1
    lo_c = np.maximum(lo, 0)
    hi_c = np.minimum(hi, voxels.shape)
    if np.any(hi_c <= lo_c) or np.any(c_zyx < -0.5) or np.any(c_zyx > np.array(voxels.shape) - 0.5):
        raise PhantomError(f"nodule centre {tuple(center)} mm lies outside the volume; "
                           "choose a centre inside the scan's world bounds")
    crop = tuple(slice(int(a), int(b)) for a, b in zip(lo_c, hi_c, strict=True))
    # supersampled world offsets of the crop's sub-voxels
    n = SUPERSAMPLE
    sub = (np.arange(n) + 0.5) / n - 0.5
    axes = [np.add.outer(np.arange(a, b), sub).ravel() for a, b in zip(lo_c, hi_c, strict=True)]
    kz, ky, kx = np.meshgrid(*axes, indexing="ij")
    idx = np.stack([kx, ky, kz], axis=-1).astype(np.float32)  # (col, row, slice)
    off = (idx - ijk.astype(np.float32)) @ m.T.astype(np.float32)  # world mm from the centre
    dist = np.sqrt((off**2).sum(-1))
    dirs = off / np.maximum(dist, 1e-6)[..., None]
    r_dir = _shape_radius(dirs, radius, lobes, phases, amp)
    shape = tuple(hi_c - lo_c)

    def coverage(inside: np.ndarray) -> np.ndarray:
        return inside.reshape(shape[0], n, shape[1], n, shape[2], n).mean(axis=(1, 3, 5))

    f_all = coverage(dist <= r_dir)
    solid_d: float | None = None
    region = voxels[crop].astype(np.float32)
    clip = np.ones_like(f_all)
    if lung is not None and spec.attachment is Attachment.JUXTA_PLEURAL:
        clip = lung[crop].astype(np.float32)
    texture = rng.normal(0.0, 6.0, size=shape).astype(np.float32)
    if spec.nodule_type is NoduleType.SOLID:
        region += (HU_SOLID + texture - region) * f_all * clip
    else:
        halo = HU_GGO + 2 * texture
        region = np.maximum(region, region + (halo - region) * f_all * clip)
        if spec.nodule_type is NoduleType.PART_SOLID:
            core_r = radius * spec.solid_fraction
            f_core = coverage(dist <= core_r * r_dir / radius)
            region += (HU_SOLID + texture - region) * f_core * clip
            solid_d = 2.0 * core_r
    voxels[crop] = np.clip(np.rint(region), -1024, 3071).astype(np.int16)
    mask = (f_all >= 0.5) & (clip >= 0.5)
    if not mask.any():
        raise PhantomError(f"nodule at {tuple(center)} mm left no voxel inside the lung; "
                           "move it away from the chest wall or make it larger")
    spacing_vol = abs(float(np.linalg.det(m)))
    volume = float(mask.sum()) * spacing_vol
    if clip.min() < 1.0:  # clipped by the wall: the centre is that of the part inside the lung
        zz, yy, xx = np.nonzero(mask)
        cz, cy, cx = zz.mean() + lo_c[0], yy.mean() + lo_c[1], xx.mean() + lo_c[2]
        center = m @ np.array([cx, cy, cz]) + aff[:3, 3]
    return PhantomNodule(
        nodule_id=nodule_id,
        center=(float(center[0]), float(center[1]), float(center[2])),
        diameter_mm=float(spec.diameter_mm),
        volume_mm3=volume,
        nodule_type=spec.nodule_type,
        attachment=spec.attachment,
        solid_diameter_mm=solid_d,
        mask_origin_zyx=(int(lo_c[0]), int(lo_c[1]), int(lo_c[2])),
        mask=mask,
    )
