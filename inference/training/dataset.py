"""Training patches: real lung backgrounds and synthetic chests, synthetic nodules, hard negatives.

For every background scan:
- hard negatives: the classical candidate generator's candidates that are not a nodule (vessel
  bifurcations, airway walls, fissures, pleural bumps), plus random points in the lungs;
- positives inserted into the background at patch level: a nodule of a random kind and size
  (3-30 mm) placed freely in the lung, against the pleura or on a vessel, rendered on each
  patch grid, with the candidate-to-nodule offset the generator shows (up to 25 % of the
  diameter, at most 3 mm);
- on synthetic chests and inference.phantom phantoms also their own full-volume nodules (exact
  ground truth), each seen from several jittered centres.
Background kinds: the LIDC scans, synthetic chests (:mod:`inference.training.synth_chest`, seeds
1000+) and the project's phantoms (:func:`inference.phantom.make_phantom`, seeds
:data:`PHANTOM_TRAIN_SEEDS`; evaluation and tuning use other seeds).
The reference nodule regions of the LIDC scans (:data:`inference.training.scans.RESERVED_REGIONS`)
are never sampled: no patch centre lies within their radius. Patches are stored as uint8
(windowed 0..1 x 255). Torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from inference.detection.candidates import generate_candidates
from inference.detection.lungs import lung_region
from inference.detection.patches import COARSE_MM, FINE_MM, grid_offsets, sample_world, window
from inference.imaging.volume import Volume
from inference.training.synth_chest import make_synth_chest
from inference.phantom.nodules import Attachment, choose
from inference.training.synth_nodules import SynthNodule, composite, placement_label, random_nodule

HU_WINDOW = (-1000.0, 400.0)
PATCH = 24
#: inference.phantom seeds that training may use; evaluation refuses them
PHANTOM_TRAIN_SEEDS = range(1000, 2000)
#: per phantom background: random nodules drawn into the full volume (fewer where no room)
PHANTOM_NODULES = (3, 6)


def _tag(n) -> str:
    """kind-placement of a SynthNodule or an inference.phantom PhantomNodule."""
    if isinstance(n, SynthNodule):
        return f"{n.kind.value}-{placement_label(n.placement)}"
    return f"{n.nodule_type.value}-{placement_label(n.attachment)}"


def make_training_phantom(seed: int, rng: np.random.Generator):
    """A phantom of a training seed: 160^3 at 1 mm, every third one 128 x 208 x 208 at
    1.25 x 0.75 x 0.75 mm, with 3-6 random nodules (fewer where the lungs have no room)."""
    from inference.phantom import PhantomError, make_phantom

    if seed not in PHANTOM_TRAIN_SEEDS:
        raise ValueError(f"phantom seed {seed} is not a training seed; use "
                         f"{PHANTOM_TRAIN_SEEDS.start}-{PHANTOM_TRAIN_SEEDS.stop - 1}")
    shape, spacing = ((128, 208, 208), (1.25, 0.75, 0.75)) if seed % 3 == 2 else \
        ((160, 160, 160), (1.0, 1.0, 1.0))
    n = int(rng.integers(PHANTOM_NODULES[0], PHANTOM_NODULES[1] + 1))
    while True:
        try:
            return make_phantom(seed, shape_zyx=shape, spacing_zyx=spacing, n_random=n)
        except PhantomError:
            if n == 0:
                raise
            n -= 1


@dataclass(frozen=True, slots=True)
class Background:
    name: str
    volume: Volume
    nodules: tuple[SynthNodule, ...]
    reserved: tuple = ()


def _patch(volume: Volume, centre, nodule: SynthNodule | None, rng) -> np.ndarray:
    out = np.empty((2, PATCH, PATCH, PATCH), np.uint8)
    for ch, sp in enumerate((FINE_MM, COARSE_MM)):
        pts = grid_offsets(PATCH, sp) + np.asarray(centre)
        hu = sample_world(volume, pts)
        if nodule is not None:
            hu = composite(hu, nodule, pts, 20.0, rng)
        out[ch] = np.rint(window(hu, HU_WINDOW) * 255).reshape(PATCH, PATCH, PATCH)
    return out


def _jitter(rng, diameter: float) -> np.ndarray:
    v = rng.normal(size=3)
    return v / np.linalg.norm(v) * rng.uniform(0, min(3.0, 0.25 * diameter))


def _far(p, items, extra=0.0) -> bool:
    return all(np.linalg.norm(np.asarray(p) - np.asarray(c)) > r + extra for c, r in items)


def _region_points(bg: Background, rng):
    """World points of the lung region: all, pleural (boundary), vascular (dense inside)."""
    region = lung_region(bg.volume)
    m = region.mask
    ero = ndimage.binary_erosion(m, iterations=2)
    idx_all = np.argwhere(ero)
    idx_pleura = np.argwhere(m & ~ndimage.binary_erosion(m, iterations=1))
    coarse = bg.volume.voxels[:: region.step[0], :: region.step[1], :: region.step[2]]
    coarse = coarse[: m.shape[0], : m.shape[1], : m.shape[2]]
    idx_vessel = np.argwhere(ero & (coarse > -400))

    def world(idx):
        if len(idx) == 0:
            return np.zeros((0, 3))
        return idx[:, ::-1].astype(float) @ region.affine[:3, :3].T + region.affine[:3, 3]

    return region, world(idx_all), world(idx_pleura), world(idx_vessel)


def scan_patches(bg: Background, rng: np.random.Generator, n_inserted: int, n_hard: int,
                 n_random: int, per_true: int) -> tuple[list, list, list, list]:
    """(patches, labels, tags, patch centres in world mm) from one background."""
    X, y, tags, centres = [], [], [], []
    region, pts_all, pts_pleura, pts_vessel = _region_points(bg, rng)
    truth = [(n.center, n.diameter_mm / 2 + 5.0) for n in bg.nodules]
    banned = list(bg.reserved) + truth
    # hard negatives: the generator's non-nodule candidates, strongest first, then a random rest
    cands = generate_candidates(bg.volume, region=region)
    negs = [c.center for c in cands if _far(c.center, banned)]
    take = negs[: n_hard // 2]
    rest = negs[n_hard // 2:]
    if rest:
        take += [rest[i] for i in rng.choice(len(rest), min(len(rest), n_hard - len(take)), False)]
    for t in take:
        c = np.asarray(t) + rng.normal(0, 0.7, 3)
        centres.append(c)
        X.append(_patch(bg.volume, c, None, rng))
        y.append(0)
        tags.append("hard-negative")
    for _ in range(n_random):
        p = pts_all[rng.integers(len(pts_all))] + rng.uniform(-1, 1, 3)
        if _far(p, banned):
            centres.append(p)
            X.append(_patch(bg.volume, p, None, rng))
            y.append(0)
            tags.append("random-negative")
    # the scan's own nodules
    for n in bg.nodules:
        for _ in range(per_true):
            centres.append(np.asarray(n.center) + _jitter(rng, n.diameter_mm))
            X.append(_patch(bg.volume, centres[-1], None, rng))
            y.append(1)
            tags.append(f"true-{_tag(n)}")
    # inserted nodules
    sources = {Attachment.NONE: pts_all, Attachment.JUXTA_PLEURAL: pts_pleura,
               Attachment.JUXTA_VASCULAR: pts_vessel}
    made = 0
    for _ in range(n_inserted * 5):
        if made >= n_inserted:
            break
        placement = choose(rng, list(Attachment))
        src = sources[placement]
        if len(src) == 0:
            continue
        p = src[rng.integers(len(src))] + rng.uniform(-1, 1, 3)
        nod = random_nodule(rng, p, placement)
        if not _far(p, list(bg.reserved), nod.diameter_mm / 2 + 24):
            continue
        centre = p + _jitter(rng, nod.diameter_mm)
        centres.append(centre)
        X.append(_patch(bg.volume, centre, nod, rng))
        y.append(1)
        tags.append(f"inserted-{nod.kind.value}-{placement_label(placement)}")
        made += 1
    return X, y, tags, centres


#: patches per background kind: inserted nodules, hard negatives, random negatives, per true nodule
PER_BACKGROUND = {"real": (300, 300, 80, 6), "synthetic": (60, 90, 20, 6),
                  "phantom": (30, 80, 20, 6)}


def build_dataset(seed: int, real_scans: list[tuple[str, Volume, tuple]], n_synth: int,
                  n_phantom: int = 0, log=print
                  ) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """All training patches. ``real_scans``: (name, volume, reserved regions). Synthetic chests use
    training seeds 1000 + k, phantoms :data:`PHANTOM_TRAIN_SEEDS` from its start, only.
    Returns X (N, 2, 24, 24, 24) uint8, y, tags, background names."""
    rng = np.random.default_rng(seed)
    X, y, tags, names = [], [], [], []
    backgrounds: list[tuple[Background | int, str]] = [
        (Background(n, v, (), tuple(r)), "real") for n, v, r in real_scans]
    for k in range(n_synth):
        s = make_synth_chest(1000 + k)
        backgrounds.append((Background(f"synthetic-chest:seed={1000 + k}", s.volume, s.nodules),
                            "synthetic"))
    for k in range(n_phantom):
        sd = PHANTOM_TRAIN_SEEDS.start + k
        backgrounds.append((sd, "phantom"))
    for bg, kind in backgrounds:
        if isinstance(bg, int):  # a phantom seed: made one at a time, they are cheap and large
            p = make_training_phantom(bg, rng)
            bg = Background(f"phantom:seed={bg}", p.volume, p.nodules)
        n_ins, n_hard, n_rand, per_true = PER_BACKGROUND[kind]
        xs, ys, ts, _ = scan_patches(bg, rng, n_inserted=n_ins, n_hard=n_hard, n_random=n_rand,
                                     per_true=per_true)
        X += xs
        y += ys
        tags += ts
        names += [bg.name] * len(xs)
        log(f"{bg.name}: {len(xs)} patches ({sum(ys)} positive)")
    return np.stack(X), np.asarray(y, np.float32), tags, names
