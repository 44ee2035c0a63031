"""Small synthetic chest scans for training and held-out evaluation (default 160^3 at 1 mm).

Body ellipse with a fat layer, spine, two lungs (-860 HU with texture), branching vessel trees
from each hilum, main bronchi with walls, an oblique fissure per lung, correlated noise, and
nodules of every kind and placement from :mod:`inference.training.synth_nodules` with exact
ground truth. Seeds: training uses 1000-1999, choosing the operating threshold 2000-2999,
evaluation 5000-5999 (never mixed). Torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.special import erf

from inference.imaging.volume import SeriesInfo, Volume
from inference.phantom.nodules import Attachment, choose
from inference.training.synth_nodules import SynthNodule, composite, random_nodule

TRAIN_SEEDS = range(1000, 2000)
TUNE_SEEDS = range(2000, 3000)
EVAL_SEEDS = range(5000, 6000)


@dataclass(frozen=True, slots=True, eq=False)
class SynthScan:
    volume: Volume
    nodules: tuple[SynthNodule, ...]
    lungs: np.ndarray  # bool (z, y, x), lungs without nodules


def _grid(shape, spacing):
    zz, yy, xx = np.indices(shape, dtype=np.float32)
    return zz * spacing, yy * spacing, xx * spacing


def _tube(vol: np.ndarray, p0, p1, radius: float, hu: float, spacing: float, op=np.maximum):
    """Render a capped cylinder (points in voxel-mm (z, y, x)) into ``vol`` with a soft edge."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    lo = np.maximum(np.floor((np.minimum(p0, p1) - radius - 2) / spacing), 0).astype(int)
    hi = np.minimum(np.ceil((np.maximum(p0, p1) + radius + 2) / spacing) + 1, vol.shape).astype(int)
    if np.any(hi <= lo):
        return
    sl = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
    zz, yy, xx = np.meshgrid(*[np.arange(a, b) * spacing for a, b in zip(lo, hi, strict=True)], indexing="ij")
    pts = np.stack([zz, yy, xx], -1)
    d = p1 - p0
    t = np.clip(((pts - p0) @ d) / max(float(d @ d), 1e-9), 0, 1)
    dist = np.linalg.norm(pts - (p0 + t[..., None] * d), axis=-1)
    occ = 0.5 * (1 - erf((dist - radius) / (np.sqrt(2) * 0.5)))
    sub = vol[sl]
    vol[sl] = op(sub, sub + occ * (hu - sub)) if op is np.maximum else np.minimum(sub, sub + occ * (hu - sub))


def _vessel_tree(vol, lung, rng, root, direction, radius, depth, spacing, first=True):
    if depth == 0 or radius < 0.6:
        return
    length = rng.uniform(10, 22) * (radius / 2.5) ** 0.3 * (1.8 if first else 1.0)
    end = root + direction * length
    idx = np.clip(np.rint(end / spacing).astype(int), 0, np.asarray(vol.shape) - 1)
    if not lung[tuple(idx)] and not first:
        return
    _tube(vol, root, end, radius, rng.uniform(20, 60), spacing)
    for _ in range(2):
        nd = direction + rng.normal(0, 0.55, 3)
        nd /= np.linalg.norm(nd)
        _vessel_tree(vol, lung, rng, end, nd, radius * rng.uniform(0.68, 0.8), depth - 1, spacing,
                     False)


def make_synth_chest(seed: int, size: int = 160, spacing: float = 1.0, n_nodules=(1, 4),
                     d_range=(3.0, 30.0)) -> SynthScan:
    rng = np.random.default_rng(seed)
    shape = (size, size, size)
    zz, yy, xx = _grid(shape, spacing)
    c = size * spacing / 2
    ax, ay = rng.uniform(0.44, 0.48) * size * spacing, rng.uniform(0.32, 0.36) * size * spacing
    body_r = ((xx - c) / ax) ** 2 + ((yy - c) / ay) ** 2
    vol = np.full(shape, -1000.0, np.float32)
    vol[body_r <= 1] = -100.0  # fat
    inner = ((xx - c) / (ax - 9)) ** 2 + ((yy - c) / (ay - 9)) ** 2 <= 1
    vol[inner] = 35.0
    spine = ((xx - c) ** 2 + (yy - (c + ay - 22)) ** 2) <= 12 ** 2
    vol[spine] = 450.0
    lungs = np.zeros(shape, bool)
    for side in (-1, 1):
        lc = np.array([c, c - 2 + rng.uniform(-3, 3), c + side * rng.uniform(0.20, 0.24) * size * spacing])
        semi = np.array([0.44 * size * spacing, ay - 14, rng.uniform(0.15, 0.18) * size * spacing])
        e = ((zz - lc[0]) / semi[0]) ** 2 + ((yy - lc[1]) / semi[1]) ** 2 + ((xx - lc[2]) / semi[2]) ** 2
        lungs |= (e <= 1) & inner
    tex = ndimage.gaussian_filter(rng.normal(0, 1, shape).astype(np.float32), 2.0)
    vol[lungs] = -860.0 + 60 * tex[lungs]
    # fissures (thin oblique sheets)
    for side in (-1, 1):
        n = np.array([rng.uniform(0.6, 0.8), rng.uniform(0.5, 0.7), side * 0.2])
        n /= np.linalg.norm(n)
        d0 = np.array([c, c, c + side * 0.22 * size * spacing]) @ n + rng.uniform(-8, 8)
        dist = np.abs(zz * n[0] + yy * n[1] + xx * n[2] - d0)
        sheet = lungs & (dist < 2)
        vol[sheet] = np.maximum(vol[sheet], -860 + (160 * np.exp(-(dist[sheet] / 0.6) ** 2)))
    # airways: trachea to the carina, main bronchi
    carina = np.array([c + 0.15 * size * spacing, c - 4, c])
    top = np.array([size * spacing - 1, c - 6, c])
    _tube(vol, top, carina, 8.0, -80.0, spacing)
    _tube(vol, top, carina, 6.5, -1000.0, spacing, op=np.minimum)
    for side in (-1, 1):
        end = carina + np.array([-22, 2, side * 22])
        _tube(vol, carina, end, 5.5, -80.0, spacing)
        _tube(vol, carina, end, 4.0, -1000.0, spacing, op=np.minimum)
    # vessel trees from each hilum
    for side in (-1, 1):
        hilum = np.array([c + rng.uniform(-5, 5), c + 2, c + side * 0.12 * size * spacing])
        for _ in range(7):
            d = np.array([rng.normal(0, 1), rng.normal(0, 0.5), side * abs(rng.normal(0.8, 0.3))])
            d /= np.linalg.norm(d)
            _vessel_tree(vol, lungs, rng, hilum, d, rng.uniform(2.6, 3.6), 6, spacing)
    aff = Volume.make_affine((spacing,) * 3, (-c, -c, -c))
    nodules = _place_nodules(vol, lungs, rng, aff, n_nodules, d_range, spacing)
    noise = ndimage.gaussian_filter(rng.normal(0, 1, shape).astype(np.float32), 0.7)
    vol += noise * (25.0 / max(float(noise.std()), 1e-6))
    out = np.clip(np.rint(vol), -1024, 3000).astype(np.int16)
    info = SeriesInfo(source=f"synthetic-chest:seed={seed}", series_description="synthetic chest")
    return SynthScan(Volume(out, aff, info), tuple(nodules), lungs)


def _place_nodules(vol, lungs, rng, aff, n_range, d_range, spacing):
    depth = ndimage.distance_transform_edt(lungs) * spacing
    vessel = lungs & (vol > -400)
    out: list[SynthNodule] = []
    n = int(rng.integers(n_range[0], n_range[1] + 1))
    for _ in range(n * 10):
        if len(out) >= n:
            break
        placement = choose(rng, list(Attachment))
        probe = random_nodule(rng, (0, 0, 0), placement, d_range)
        r = probe.diameter_mm / 2
        if placement is Attachment.JUXTA_PLEURAL:
            ok = lungs & (np.abs(depth - 0.5 * r) < 1.0)
        elif placement is Attachment.JUXTA_VASCULAR:
            ok = vessel & (depth > r + 2)
        else:
            ok = depth > r + 3
        idx = np.argwhere(ok)
        if len(idx) == 0:
            continue
        zyx = idx[rng.integers(len(idx))]
        world = Volume(np.zeros((1, 1, 1), np.int16), aff).index_to_world(zyx.astype(float))
        if any(np.linalg.norm(world - np.asarray(o.center)) < (o.diameter_mm / 2 + r + 6) for o in out):
            continue
        x, y, z = (float(v) for v in world)
        nod = SynthNodule((x, y, z), probe.diameter_mm, probe.kind,
                          probe.seed, placement)
        _insert(vol, nod, aff, rng, spacing)
        out.append(nod)
    return out


def _insert(vol, nod, aff, rng, spacing):
    r = nod.diameter_mm / 2 * 1.35 + 4
    c_idx = (np.asarray(nod.center) - aff[:3, 3]) / spacing  # x, y, z (identity direction)
    lo = np.maximum(np.floor(c_idx - r / spacing), 0).astype(int)[::-1]
    hi = np.minimum(np.ceil(c_idx + r / spacing) + 1, vol.shape[::-1]).astype(int)[::-1]
    sl = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
    zz, yy, xx = np.meshgrid(*[np.arange(a, b) for a, b in zip(lo, hi, strict=True)], indexing="ij")
    pts = np.stack([xx, yy, zz], -1).reshape(-1, 3) * spacing + aff[:3, 3]
    bg = vol[sl].reshape(-1)
    vol[sl] = composite(bg, nod, pts, 12.0, rng).reshape(vol[sl].shape)
