"""Branching tubes of the phantom: pulmonary vessels and airways.

Geometry is in *grid mm* (z, y, x) = index x spacing; the phantom's grid is axis-aligned, so a
world point is the volume's origin plus these offsets (reordered to x, y, z). Tubes are drawn in
local crops only, with a linear radius taper and an anti-aliased edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

HU_VESSEL = 42.0
HU_AIRWAY_WALL = 20.0
HU_AIRWAY = -985.0


@dataclass(frozen=True, slots=True)
class Tube:
    """A tapered cylinder from ``a`` to ``b`` (grid mm, z y x) with radii ``r0`` → ``r1``."""

    a: tuple[float, float, float]
    b: tuple[float, float, float]
    r0: float
    r1: float
    generation: int = 0


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.sqrt(v @ v))
    return v / n if n > 0 else v


def _perturb(direction: np.ndarray, angle: float, rng: np.random.Generator) -> np.ndarray:
    """Rotate unit ``direction`` by ``angle`` radians towards a random perpendicular."""
    other = rng.standard_normal(3)
    perp = other - (other @ direction) * direction
    n = float(np.sqrt(perp @ perp))
    if n == 0.0:
        return direction
    return _unit(np.cos(angle) * direction + (np.sin(angle) / n) * perp)


def grow_tree(rng: np.random.Generator, root: np.ndarray, direction: np.ndarray, radius: float,
              length: float, inside: Callable[[np.ndarray], bool], *, min_radius: float,
              max_generation: int, taper: float = 0.78, spread: tuple[float, float] = (0.35, 0.7),
              decay: tuple[float, float] = (0.7, 0.9)) -> list[Tube]:
    """Grow a bifurcating tree from ``root``; branches stop where ``inside`` says they left the
    lung, below ``min_radius`` or after ``max_generation`` splits."""
    tubes: list[Tube] = []
    stack = [(np.asarray(root, float), _unit(np.asarray(direction, float)), radius, length, 0)]
    while stack:
        p, d, r, ln, gen = stack.pop()
        # a gently curving branch made of two straight pieces
        d1 = _perturb(d, rng.uniform(0.0, 0.25), rng)
        mid = p + d1 * ln * 0.5
        end = mid + _perturb(d1, rng.uniform(0.0, 0.25), rng) * ln * 0.5
        r_end = r * taper
        # the first generations may cross the mediastinum on their way into the lung
        if gen > 1 and not inside(mid):
            continue
        tubes.append(Tube(tuple(p), tuple(mid), r, (r + r_end) / 2, gen))
        if gen > 1 and not inside(end):
            continue
        tubes.append(Tube(tuple(mid), tuple(end), (r + r_end) / 2, r_end, gen))
        if gen >= max_generation or r_end * taper < min_radius:
            continue
        d_end = _unit(end - mid)
        for _ in range(2):
            child_len = ln * rng.uniform(*decay)
            for _try in range(6):  # turn back into the lung rather than leave it
                child_dir = _perturb(d_end, rng.uniform(*spread), rng)
                if inside(end + child_dir * child_len):
                    stack.append((end, child_dir, r_end * rng.uniform(0.85, 1.0), child_len,
                                  gen + 1))
                    break
    return tubes


def tube_crop(tube: Tube, spacing_zyx: np.ndarray, shape: tuple[int, int, int], margin: float
              ) -> tuple[tuple[slice, slice, slice], np.ndarray] | None:
    a = np.asarray(tube.a)
    b = np.asarray(tube.b)
    rad = max(tube.r0, tube.r1) + margin
    lo = np.floor((np.minimum(a, b) - rad) / spacing_zyx).astype(int)
    hi = np.ceil((np.maximum(a, b) + rad) / spacing_zyx).astype(int) + 1
    lo = np.maximum(lo, 0)
    hi = np.minimum(hi, shape)
    if np.any(hi <= lo):
        return None
    z, y, x = (slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True))
    return (z, y, x), lo


def tube_fraction(tube: Tube, spacing_zyx: np.ndarray, crop: tuple[slice, slice, slice],
                  extra_radius: float = 0.0) -> np.ndarray:
    """Fraction (0..1) of each voxel of ``crop`` covered by the tube (radius + extra)."""
    a = np.asarray(tube.a, np.float32)
    b = np.asarray(tube.b, np.float32)
    zz, yy, xx = (np.arange(s.start, s.stop, dtype=np.float32) * float(sp) - float(c)
                  for s, sp, c in zip(crop, spacing_zyx, a, strict=True))
    zz, yy, xx = zz[:, None, None], yy[None, :, None], xx[None, None, :]
    d = b - a
    length2 = float(d @ d) or 1e-6
    u = np.clip((zz * d[0] + yy * d[1] + xx * d[2]) / length2, 0.0, 1.0)
    dist = np.sqrt((zz - u * d[0]) ** 2 + (yy - u * d[1]) ** 2 + (xx - u * d[2]) ** 2)
    r = tube.r0 + (tube.r1 - tube.r0) * u + extra_radius
    w = float(np.cbrt(np.prod(spacing_zyx)))
    return np.clip((r - dist) / w + 0.5, 0.0, 1.0)


def draw_tubes(img: np.ndarray, spacing_zyx: tuple[float, float, float], tubes: list[Tube],
               hu: float, clip: np.ndarray | None = None, extra_radius: float = 0.0) -> None:
    """Blend ``hu`` into ``img`` (float32 or int16, modified in place) inside each tube.
    ``clip`` (uint8, 0..255) limits the blend, e.g. vessels to the lung fraction."""
    sp = np.asarray(spacing_zyx, float)
    for tube in tubes:
        got = tube_crop(tube, sp, img.shape, extra_radius + 2 * float(sp.max()))
        if got is None:
            continue
        crop, _ = got
        f = tube_fraction(tube, sp, crop, extra_radius)
        if clip is not None:
            f = f * (clip[crop].astype(np.float32) / 255.0)
        region = img[crop].astype(np.float32)
        region += (hu - region) * f
        img[crop] = np.rint(region) if img.dtype != np.float32 else region
