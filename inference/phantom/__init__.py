"""Synthetic low-dose chest CT with known nodules: the app's demo scan, test and training data.

A seeded generator: body and chest wall, ribs, spine, mediastinum, heart, aorta, trachea and
bronchi, two lungs with branching vessels, correlated low-dose noise and partial-volume edges,
plus nodules (solid, part-solid, ground-glass; free, juxta-pleural, juxta-vascular) whose exact
truth (world centre, diameter, rendered volume and mask) comes back with the volume.

Geometry: axial slices, LPS; the patient's right at low x (the origin's x is negative), anterior at
low row index, z increasing superior with the slice index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import ndimage

from pydicom.uid import generate_uid

from inference.imaging.volume import SeriesInfo, Volume
from inference.domain.nodule import NoduleType
from inference.phantom.anatomy import SliceComposer
from inference.phantom.nodules import (Attachment, NoduleSpec, PhantomError, PhantomNodule, choose,
                                       insert_nodule)
from inference.phantom.placement import Placer
from inference.phantom.trees import (HU_AIRWAY, HU_AIRWAY_WALL, HU_VESSEL, Tube, draw_tubes,
                                     grow_tree)

__all__ = ["Attachment", "NoduleSpec", "NoduleType", "Phantom", "PhantomError", "PhantomNodule",
           "DEMO_SEED", "FULL_SHAPE_ZYX", "FULL_SPACING_ZYX", "SMALL_SHAPE_ZYX", "SMALL_SPACING_ZYX",
           "demo_phantom", "demo_specs", "insert_nodule", "make_phantom"]

FULL_SHAPE_ZYX = (300, 512, 512)
FULL_SPACING_ZYX = (1.0, 0.7, 0.7)
SMALL_SHAPE_ZYX = (64, 128, 128)  # the fast variant for tests
SMALL_SPACING_ZYX = (2.0, 2.0, 2.0)
DEMO_SEED = 20240601


@dataclass(frozen=True, eq=False)
class Phantom:
    volume: Volume
    nodules: tuple[PhantomNodule, ...]
    lung_mask: np.ndarray  # bool (z, y, x): the true lungs (parenchyma incl. vessels and nodules)
    seed: int
    vessels: tuple[Tube, ...] = ()  # centre lines in grid mm (z, y, x) = index * spacing


def _affine(shape_zyx: tuple[int, int, int], spacing_zyx: tuple[float, float, float]) -> np.ndarray:
    nz, ny, nx = shape_zyx
    sz, sy, sx = spacing_zyx
    origin = (-(nx - 1) / 2.0 * sx, -(ny - 1) / 2.0 * sy + 20.0, -(nz - 1) * sz - 40.0)
    return Volume.make_affine((sx, sy, sz), origin)


def _validate(seed: int, shape_zyx, spacing_zyx, n_random: int, noise_hu: float) -> None:
    if len(shape_zyx) != 3 or min(shape_zyx) < 16:
        raise PhantomError(f"shape_zyx={tuple(shape_zyx)}: give three sizes of at least 16 voxels")
    if len(spacing_zyx) != 3 or not all(0.2 <= s <= 5.0 for s in spacing_zyx):
        raise PhantomError(f"spacing_zyx={tuple(spacing_zyx)}: give three spacings of 0.2 to 5 mm")
    if n_random < 0 or noise_hu < 0:
        raise PhantomError(f"n_random={n_random}, noise_hu={noise_hu}: both must be >= 0")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise PhantomError(f"seed={seed!r}: give a non-negative integer")


def _grow_vessels_and_airways(comp: SliceComposer, lungfrac: np.ndarray,
                              spacing_zyx: tuple[float, float, float], rng: np.random.Generator
                              ) -> tuple[list[Tube], list[Tube]]:
    nz, ny, nx = lungfrac.shape
    sp = np.asarray(spacing_zyx, float)
    lay = comp.lay
    h = lay.half

    def grid_mm(t: float, y: float, x: float) -> np.ndarray:
        return np.array([t * lay.z_extent, y + (ny - 1) / 2 * sp[1], x + (nx - 1) / 2 * sp[2]])

    def inside(p: np.ndarray) -> bool:
        k = np.rint(p / sp).astype(int)
        if np.any(k < 0) or np.any(k >= lungfrac.shape):
            return False
        return bool(lungfrac[tuple(k)] > 100)

    scale = h / 179.0
    min_r = max(0.45, 0.3 * float(sp[1:].mean()))
    vessels: list[Tube] = []
    airways: list[Tube] = []
    airway_dirs = [(1.0, 0.1, 0.35), (-0.9, 0.5, 0.4), (-0.6, -0.5, 0.5), (0.1, 0.1, 1.0)]
    for side in (-1, 1):
        th, yh, xh = lay.hilum(side)
        root = grid_mm(th, yh, xh)
        # trunks fan out from the hilum: up, down (longer, the lung is taller) and sideways
        for _ in range(20):
            d = rng.normal(size=3) * np.array([1.6, 0.8, 0.6]) + np.array([0.0, 0.0, 0.7 * side])
            up = abs(d[0]) / np.linalg.norm(d)  # trunks along the lung's long axis reach further
            vessels += grow_tree(rng, root, d, radius=4.0 * scale, length=0.12 * h * (1 + 0.6 * up),
                                 inside=inside, min_radius=min_r, max_generation=9, taper=0.8,
                                 spread=(0.3, 0.6), decay=(0.72, 0.9))
        # bronchi: from the carina to the hilum, then a few generations into the lung
        tc, yc, xc = lay.carina
        carina = grid_mm(tc, yc, xc) + np.array([6.0, 0.0, 0.0])  # start inside the trachea
        hil = grid_mm(th + 0.02, yh + 0.03 * h, xh * 0.9)
        rb = min(6.0, 0.036 * h)
        airways.append(Tube(tuple(carina), tuple(hil), rb, rb * 0.85, 0))
        for dz, dy, dx in airway_dirs:
            d = np.array([dz, dy, dx * side])
            airways += grow_tree(rng, hil, d, radius=rb * 0.7, length=0.14 * h, inside=inside,
                                 min_radius=max(1.2, float(sp.max())), max_generation=3)
    return vessels, airways


def make_phantom(seed: int = 0, shape_zyx: tuple[int, int, int] = FULL_SHAPE_ZYX,
                 spacing_zyx: tuple[float, float, float] = FULL_SPACING_ZYX,
                 nodules: Sequence[NoduleSpec] | None = None, n_random: int = 0,
                 noise_hu: float = 25.0) -> Phantom:
    """A seeded synthetic low-dose chest CT with ``nodules`` plus ``n_random`` random ones."""
    nz, ny, nx = (int(s) for s in shape_zyx)
    sz, sy, sx = (float(s) for s in spacing_zyx)
    shape_zyx, spacing_zyx = (nz, ny, nx), (sz, sy, sx)
    _validate(seed, shape_zyx, spacing_zyx, n_random, noise_hu)
    specs = list(nodules or [])
    # Same inputs, same scan, same UIDs: the demo is one series in the review store every time.
    key = f"nodulelens-phantom|{seed}|{shape_zyx}|{spacing_zyx}|{specs!r}|{n_random}|{noise_hu}"
    uids = {part: generate_uid(entropy_srcs=[key, part]) for part in ("study", "series", "frame")}
    seq = np.random.SeedSequence(int(seed))
    rng_anat, rng_tree, rng_nod, rng_noise = (np.random.default_rng(s) for s in seq.spawn(4))
    nz, ny, nx = shape_zyx
    comp = SliceComposer(shape_zyx, spacing_zyx, rng_anat)
    vox = np.empty(shape_zyx, np.int16)
    lungfrac = np.empty(shape_zyx, np.uint8)
    for k in range(nz):
        img, lf = comp.compose(k)
        vox[k] = np.rint(img)
        lungfrac[k] = np.rint(lf * 255.0)
    lung = lungfrac >= 128
    vessels, airways = _grow_vessels_and_airways(comp, lungfrac, spacing_zyx, rng_tree)
    draw_tubes(vox, spacing_zyx, vessels, HU_VESSEL, clip=lungfrac)
    draw_tubes(vox, spacing_zyx, airways, HU_AIRWAY_WALL, extra_radius=1.0)
    draw_tubes(vox, spacing_zyx, airways, HU_AIRWAY)

    affine = _affine(shape_zyx, spacing_zyx)
    origin = affine[:3, 3]
    placer = Placer(lung, spacing_zyx, vessels, rng_nod, vox)
    for s in specs:
        if s.center is not None:
            c = np.asarray(s.center) - origin
            placer.reserve(np.array([c[2], c[1], c[0]]), s.diameter_mm / 2)
    specs += [_random_spec(rng_nod) for _ in range(n_random)]
    truth: list[PhantomNodule] = []
    for i, s in enumerate(specs):
        if s.center is None:
            p = placer.place(s)  # grid mm (z, y, x)
            s = NoduleSpec((float(origin[0] + p[2]), float(origin[1] + p[1]),
                            float(origin[2] + p[0])), s.diameter_mm, s.nodule_type,
                           s.attachment, s.solid_fraction)
        truth.append(insert_nodule(vox, affine, s, rng_nod, nodule_id=f"N{i + 1}", lung=lung))
        z, y, x = truth[-1].mask_origin_zyx
        dz, dy, dx = truth[-1].mask.shape
        lung[z:z + dz, y:y + dy, x:x + dx] |= truth[-1].mask
    _add_noise(vox, spacing_zyx, noise_hu, rng_noise)
    info = SeriesInfo(
        modality="CT", series_description=f"NoduleLens synthetic chest CT (seed {seed})",
        study_description="Synthetic low-dose chest CT phantom", patient_name="SYNTHETIC^PHANTOM",
        patient_id=f"PHANTOM-{seed}", patient_sex="O", patient_age_years=62.0,
        manufacturer="NoduleLens phantom", manufacturer_model="synthetic", kvp=120.0,
        convolution_kernel="SYNTHETIC", slice_thickness_mm=spacing_zyx[0],
        source=f"phantom:seed={seed}", study_instance_uid=uids["study"],
        series_instance_uid=uids["series"], frame_of_reference_uid=uids["frame"],
        study_date="20260101", study_id="DEMO")
    return Phantom(Volume(vox, affine, info), tuple(truth), lung, int(seed), tuple(vessels))


def _random_spec(rng: np.random.Generator) -> NoduleSpec:
    kind = choose(rng, [NoduleType.SOLID, NoduleType.PART_SOLID, NoduleType.GROUND_GLASS],
                  p=[0.6, 0.2, 0.2])
    att = choose(rng, [Attachment.NONE, Attachment.JUXTA_PLEURAL, Attachment.JUXTA_VASCULAR],
                 p=[0.65, 0.2, 0.15])
    lo = 6.0 if kind is not NoduleType.SOLID else 4.0
    d = float(np.round(np.exp(rng.uniform(np.log(lo), np.log(20.0))), 1))
    return NoduleSpec(None, d, kind, att, float(rng.uniform(0.3, 0.6)))


def _add_noise(vox: np.ndarray, spacing_zyx, noise_hu: float, rng: np.random.Generator) -> None:
    """Low-dose noise: white noise blurred in-plane (correlated over ~1 mm) and scaled to
    ``noise_hu`` standard deviation. A bank of filtered noise planes is drawn once; each slice
    sums two of them at random cyclic shifts, which keeps the statistics and costs little."""
    if noise_hu <= 0:
        return
    nz, ny, nx = vox.shape
    sig = (0.0, 0.6 / spacing_zyx[1], 0.6 / spacing_zyx[2])
    bank = rng.standard_normal((min(nz, 24), ny, nx), dtype=np.float32)
    bank = ndimage.gaussian_filter(bank, sig, truncate=3.0, mode="wrap")
    bank *= np.float32(noise_hu / np.sqrt(2.0) / bank.std())
    picks = rng.integers(0, len(bank), size=(nz, 2))
    shifts = rng.integers(0, (ny, nx), size=(nz, 2, 2))
    for k in range(nz):
        n = np.roll(bank[picks[k, 0]], tuple(shifts[k, 0]), axis=(0, 1))
        n += np.roll(bank[picks[k, 1]][::-1], tuple(shifts[k, 1]), axis=(0, 1))
        n += vox[k]
        np.clip(n, -1024, 3071, out=n)
        vox[k] = np.rint(n)


def demo_specs() -> list[NoduleSpec]:
    """The five nodules of the built-in demo scan (places chosen by the fixed seed)."""
    return [
        NoduleSpec(None, 8.0, NoduleType.SOLID),
        NoduleSpec(None, 15.0, NoduleType.SOLID),
        NoduleSpec(None, 12.0, NoduleType.PART_SOLID, solid_fraction=0.5),
        NoduleSpec(None, 10.0, NoduleType.GROUND_GLASS),
        NoduleSpec(None, 6.0, NoduleType.SOLID, Attachment.JUXTA_PLEURAL),
    ]


def demo_phantom(shape_zyx: tuple[int, int, int] = FULL_SHAPE_ZYX,
                 spacing_zyx: tuple[float, float, float] | None = None) -> Phantom:
    """The app's built-in demo scan (fixed seed). ``spacing_zyx`` defaults to 0.7 mm pixels and
    1 mm slices for 384 columns or more, else to the small variant's 2 mm voxels."""
    if spacing_zyx is None:
        spacing_zyx = FULL_SPACING_ZYX if shape_zyx[2] >= 384 else SMALL_SPACING_ZYX
    return make_phantom(DEMO_SEED, shape_zyx, spacing_zyx, nodules=demo_specs())
