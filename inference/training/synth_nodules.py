"""Synthetic nodules rendered at arbitrary world points (a full scan grid or a patch's grid).

Shape: an ellipsoid with random axes and low-frequency lobulation. Edge: an erf profile of
0.5-0.8 mm (solid) or 1-1.6 mm (ground glass) standing in for partial volume and the scanner's
blur. Texture: a smooth random field (random Fourier features). Kinds: solid, part-solid (ground
glass with a solid core), ground glass. Compositing keeps whatever is brighter (vessels through
ground glass, the chest wall behind a juxta-pleural nodule) and adds fresh noise in the nodule
in proportion to its occupancy. Torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import erf

from inference.domain.nodule import NoduleType
from inference.phantom.nodules import Attachment, choose


def placement_label(attachment: Attachment) -> str:
    """The training statistics' name of a placement (``free`` for a nodule attached to nothing),
    as the model cards' ``training_data`` counts use it."""
    return "free" if attachment is Attachment.NONE else attachment.value


@dataclass(frozen=True, slots=True)
class SynthNodule:
    center: tuple[float, float, float]  # world LPS mm
    diameter_mm: float
    kind: NoduleType
    seed: int
    placement: Attachment = Attachment.NONE

    def __post_init__(self) -> None:
        if not 1.0 <= self.diameter_mm <= 60.0:
            raise ValueError(f"SynthNodule diameter {self.diameter_mm} mm outside 1..60 mm")


def random_nodule(rng: np.random.Generator, center, placement=Attachment.NONE,
                  d_range=(3.0, 30.0)) -> SynthNodule:
    d = float(np.exp(rng.uniform(np.log(d_range[0]), np.log(d_range[1]))))
    kind = choose(rng, [NoduleType.SOLID, NoduleType.SOLID, NoduleType.PART_SOLID, NoduleType.GROUND_GLASS])
    if kind is not NoduleType.SOLID and d < 5:
        d = float(rng.uniform(5, 12))  # sub-5 mm ground glass is not reportable; keep it visible
    x, y, z = (float(c) for c in center)
    return SynthNodule((x, y, z), d, kind, int(rng.integers(2**31)), placement)


def _field(rng: np.random.Generator, pts: np.ndarray, scale_mm: float, k: int = 12) -> np.ndarray:
    w = rng.normal(size=(k, 3)) / scale_mm
    ph = rng.uniform(0, 2 * np.pi, k)
    return np.sqrt(2.0 / k) * np.cos(pts @ w.T + ph).sum(axis=1)


def render(nod: SynthNodule, points_xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(occupancy 0..1, nodule HU) at (N, 3) world points."""
    rng = np.random.default_rng(nod.seed)
    rel = np.asarray(points_xyz, float) - np.asarray(nod.center)
    # random orientation and axes
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    axes = rng.uniform(0.8, 1.2, 3)
    axes /= np.cbrt(axes.prod())
    local = (rel @ q) / axes
    r = np.linalg.norm(local, axis=1)
    u = local / np.maximum(r, 1e-6)[:, None]
    radius = nod.diameter_mm / 2
    lob = np.ones(len(r))
    for _ in range(3):
        v = rng.normal(size=3)
        v /= np.linalg.norm(v)
        lob += rng.uniform(0.0, 0.08) * np.sin(rng.uniform(2, 5) * (u @ v) + rng.uniform(0, 6.3))
    edge_r = radius * lob
    ggo = nod.kind is not NoduleType.SOLID
    width = rng.uniform(1.0, 1.6) if ggo else rng.uniform(0.5, 0.8)
    occ = 0.5 * (1.0 - erf((r - edge_r) / (np.sqrt(2) * width)))
    tex = _field(rng, rel, max(1.5, radius / 3))
    if nod.kind is NoduleType.SOLID:
        hu = rng.uniform(-60, 60) + 25 * tex
    else:
        hu = rng.uniform(-720, -480) + 45 * tex
        if nod.kind is NoduleType.PART_SOLID:
            core = radius * rng.uniform(0.35, 0.6)
            core_occ = 0.5 * (1.0 - erf((r - core * lob) / (np.sqrt(2) * 0.7)))
            hu = hu + core_occ * (rng.uniform(-30, 50) - hu)
    return occ.astype(np.float32), hu.astype(np.float32)


def composite(background_hu: np.ndarray, nod: SynthNodule, points_xyz: np.ndarray,
              noise_sd: float, rng: np.random.Generator) -> np.ndarray:
    """Background HU at the points with the nodule inserted (brighter-of, plus noise)."""
    occ, hu = render(nod, points_xyz)
    mixed = background_hu + occ * (hu - background_hu)
    mixed = mixed + occ * rng.normal(0.0, noise_sd, size=mixed.shape)
    return np.maximum(background_hu, mixed).astype(np.float32)


def bounding_points(nod: SynthNodule, margin_mm: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """World (x, y, z) lo/hi of the region the nodule can touch."""
    r = nod.diameter_mm / 2 * 1.35 + margin_mm
    c = np.asarray(nod.center)
    return c - r, c + r
