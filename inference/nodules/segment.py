"""Nodule segmentation in a local region around a seed point (numpy/scipy only).

Steps (all on the scan's own voxel grid, distances in mm through the voxel spacing):

1. crop a cube around the seed; smooth lightly (Gaussian, 0.6 mm) against low-dose noise;
2. lung background ``B`` = median of the crop's parenchyma, core density ``P`` = 90th percentile
   within 2 mm of the (refined) seed;
3. threshold half-way between background and core (the 50 % partial-volume level), so the mask
   boundary lies where the true edge is;
4. pleura separation: the chest wall is what a ball larger than the nodule still fits into
   (a morphological opening of dense tissue computed with distance transforms); it is removed and
   the nodule is flagged juxta-pleural when it touches it (with a lung mask holding the seed,
   nothing inside the lung mask counts as wall); the flag
   is decided on the final nodule mask, not on the vessel tree it was cut from;
5. the connected component holding the seed; attached vessels are cut by an opening whose radius
   follows the nodule's own radius (0.8 r, at most 2.5 mm); thin trims of the nodule's own border are
   given back, long protrusions (vessels) dropped, and on nodules up to ~14 mm the fillets a cut
   vessel leaves beyond the nodule's inscribed ball are taken off;
6. solid cores are probed for a ground-glass halo (a lower threshold half-way between lung and
   ground-glass density): a halo wider than the partial-volume blur makes the nodule part-solid,
   and the whole nodule is segmented at the halo's own half-way level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from inference.domain.nodule import NoduleType

SMOOTH_MM = 0.6
#: below this in-plane size the scanner's blur lowers a solid nodule's peak: a peak above
#: SMALL_SOLID_PEAK_HU then still means solid (ground glass is at most about -550 HU)
SMALL_MM, SMALL_SOLID_PEAK_HU = 5.0, -520.0
SOLID_CORE_HU = -300.0  # a core denser than this is solid (part-solid when a halo surrounds it)
GGN_REFERENCE_HU = -600.0  # typical ground-glass density, used to probe for a halo
COMPACT_FACTOR, COMPACT_MARGIN_MM = 2.2, 2.5  # reach of a nodule from its seed: 2.2 r + 2.5 mm
VESSEL_CUT_FACTOR = 0.8  # opening radius / nodule radius: cuts vessels thinner than 1.6 r
MAX_VESSEL_CUT_MM = 2.5  # largest opening radius: cuts vessels up to ~5 mm, keeps irregular margins
TRIM_SLACK_VOXELS = 1.0  # trims reaching this much beyond the opening radius are vessels
COARSE_OPEN_MM = 16.0  # chest-wall openings by balls this large run on a 2x coarser grid (speed)
MAX_SPLIT_BLOBS = 30  # distance-map maxima (vessel ridge points, neighbours) split off at most
FILLET_MAX_RADIUS_MM = 7.0  # fillets are only taken off nodules up to ~14 mm (roundish)
FILLET_BODY_FACTOR = 1.0  # vessel fillets lie beyond the nodule's inscribed radius (+1 voxel)
HALO_MIN_FRACTION = 0.4  # share of the halo that must be a broad ground-glass ring
HALO_MIN_MM = 1.0  # in-plane diameter difference (halo vs core) that makes a nodule part-solid


#: a voxel index (z, y, x) on a crop's grid
Index3 = tuple[int, int, int]
#: a seed voxel as a tuple or an index array
Seed = Sequence[int] | np.ndarray


def _index3(values: Sequence[float] | np.ndarray) -> Index3:
    z, y, x = (int(v) for v in values)
    return z, y, x


@dataclass(frozen=True, slots=True)
class Crop:
    hu: np.ndarray  # float32 raw HU (z, y, x)
    smooth: np.ndarray  # float32 smoothed HU
    origin_zyx: tuple[int, int, int]
    spacing_zyx: tuple[float, float, float]
    seed: tuple[int, int, int]  # local index of the seed
    lung: np.ndarray | None = None  # bool lung mask on the crop, when one was given


@dataclass(frozen=True, slots=True)
class Segmentation:
    crop: Crop
    mask: np.ndarray  # bool, crop grid: the whole nodule
    solid_mask: np.ndarray | None  # bool, crop grid: solid component (part-solid only)
    threshold_hu: float  # the level the whole nodule's boundary was cut at
    solid_threshold_hu: float | None
    background_hu: float
    core_hu: float  # density that counts as "fully nodule" for partial-volume fractions
    nodule_type: NoduleType
    juxta_pleural: bool
    seed: tuple[int, int, int]  # refined local seed
    other_structures: np.ndarray  # bool: dense voxels that are not nodule (wall, vessels)
    wall_contact: np.ndarray | None = None  # bool: chest-wall voxels touching the nodule


def make_crop(voxels: np.ndarray, spacing_zyx: Sequence[float], seed_zyx: Sequence[float] | np.ndarray,
              half_mm: float,
              lung: np.ndarray | None = None) -> Crop:
    sp = np.asarray(spacing_zyx, float)
    seed = np.round(np.asarray(seed_zyx, float)).astype(int)
    half = np.ceil(half_mm / sp).astype(int)
    lo = np.maximum(seed - half, 0)
    hi = np.minimum(seed + half + 1, voxels.shape)
    hu = voxels[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]].astype(np.float32)
    smooth = ndi.gaussian_filter(hu, sigma=SMOOTH_MM / sp, mode="nearest", truncate=2.5)
    lung_c = None
    if lung is not None and lung.shape == voxels.shape:
        lung_c = np.asarray(lung[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]], bool)
    return Crop(hu, smooth, _index3(lo), (float(sp[0]), float(sp[1]), float(sp[2])), _index3(seed - lo), lung_c)


def _ball_offsets(radius_mm: float, sp: np.ndarray) -> np.ndarray:
    r = np.floor(radius_mm / sp).astype(int)
    g = np.mgrid[-r[0]:r[0] + 1, -r[1]:r[1] + 1, -r[2]:r[2] + 1].reshape(3, -1).T
    return g[((g * sp) ** 2).sum(1) <= radius_mm ** 2]


def _ball_values(img: np.ndarray, center: Seed, radius_mm: float, sp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    off = _ball_offsets(radius_mm, sp) + np.asarray(center)
    ok = np.all((off >= 0) & (off < img.shape), axis=1)
    off = off[ok]
    return img[off[:, 0], off[:, 1], off[:, 2]], off


def _struct_ball(radius_mm: float, sp: np.ndarray) -> np.ndarray:
    r = np.maximum(np.floor(radius_mm / sp).astype(int), 0)
    g = np.mgrid[-r[0]:r[0] + 1, -r[1]:r[1] + 1, -r[2]:r[2] + 1]
    d2 = sum((g[i] * sp[i]) ** 2 for i in range(3))
    return d2 <= radius_mm ** 2 + 1e-9


def _component_at(mask: np.ndarray, seed: Seed, sp: np.ndarray, search_mm: float = 2.0) -> np.ndarray:
    """The connected component of ``mask`` holding the seed (or the nearest one within reach)."""
    lab, n = ndi.label(mask)
    if n == 0:
        return np.zeros_like(mask)
    v = lab[tuple(seed)]
    if v == 0:
        vals, _ = _ball_values(lab, seed, search_mm, sp)
        vals = vals[vals > 0]
        if vals.size == 0:
            return np.zeros_like(mask)
        v = np.bincount(vals).argmax()
    return lab == v


def _touches_border(mask: np.ndarray) -> bool:
    return bool(mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any()
                or mask[:, :, 0].any() or mask[:, :, -1].any())


def _open(mask: np.ndarray, sp: np.ndarray, radius_mm: float, outside: bool = False,
          pad_mm: float = 0.0, coarse: bool = False) -> np.ndarray:
    """Morphological opening by a ball of ``radius_mm`` (anisotropic), via distance transforms.
    With ``outside`` the space beyond the array counts as inside the mask (``pad_mm`` of it is
    added so that balls can sit beyond the array's edge). With ``coarse`` a large ball's opening
    is computed on every second voxel (8x fewer) and its edge is then only good to a voxel: for
    callers that refine the edge themselves (the chest wall, refined by the lung mask)."""
    if coarse and radius_mm >= max(COARSE_OPEN_MM, 6.0 * float(sp.max())) and min(mask.shape) >= 8:
        small = _open(mask[::2, ::2, ::2], sp * 2.0, radius_mm, outside, pad_mm)
        up = small.repeat(2, 0).repeat(2, 1).repeat(2, 2)[:mask.shape[0], :mask.shape[1], :mask.shape[2]]
        return up & mask
    if not outside and mask.any():  # the opening lies inside the mask: work on its box
        box = _bbox(mask)
        if any(b.stop - b.start < n for b, n in zip(box, mask.shape, strict=True)):
            out = np.zeros_like(mask)
            out[box] = _open(mask[box], sp, radius_mm)
            return out
    pad = [(int(np.ceil(pad_mm / s)) + 1,) * 2 for s in sp]
    m = np.pad(mask, pad, constant_values=outside)
    eroded = ndi.distance_transform_edt(m, sampling=sp) > radius_mm
    if not eroded.any():
        return np.zeros_like(mask)
    opened = ndi.distance_transform_edt(~eroded, sampling=sp) <= radius_mm
    inner = tuple(slice(p[0], p[0] + n) for p, n in zip(pad, mask.shape, strict=True))
    return opened[inner] & mask


def _split_touching(comp: np.ndarray, seed: Seed, sp: np.ndarray, r_seed: float) -> np.ndarray:
    """Distance-based separation: blobs touching the nodule through a neck (a vessel in cross
    section, a neighbouring nodule) have their own maximum of the distance map; a watershed on
    the distance map from those maxima keeps the seed's basin only."""
    if not comp.any():
        return comp
    dist = ndi.distance_transform_edt(comp, sampling=sp)
    vals, pts = _ball_values(dist, seed, max(2.0, 0.5 * r_seed), sp)
    top = pts[int(vals.argmax())]
    r_top = float(vals.max())
    peaks = (dist == ndi.maximum_filter(dist, size=3)) & (dist >= float(sp.min()))
    cand = np.argwhere(peaks)
    if len(cand) == 0:
        return comp
    radii = dist[tuple(cand.T)]
    gap = np.linalg.norm((cand - top) * sp, axis=1)
    # blobs under ~2 voxels across are ridge noise of a thin nodule, not separate structures
    ok = (gap > 0.9 * (r_top + radii)) & (gap < 2.5 * r_top + 10.0) & (radii >= 1.5 * float(sp.min()))
    cand, radii, gap = cand[ok], radii[ok], gap[ok]
    # a separate blob meets the nodule through a neck: the distance map dips between them
    t = np.linspace(0.0, 1.0, 24)
    far, centres = [], cand
    for i in np.argsort(gap):
        line = top[None, :] + t[:, None] * (cand[i] - top)[None, :]
        saddle = float(ndi.map_coordinates(dist, line.T, order=1).min())
        if saddle < 0.9 * min(radii[i], r_top):
            far.append(i)
        if len(far) >= MAX_SPLIT_BLOBS:
            break
    if not far:
        return comp
    # each voxel goes to the blob whose inscribed ball it is relatively closest to (a power
    # diagram of the maxima): the split runs through the neck between touching round blobs
    grid = np.ogrid[tuple(slice(0, n) for n in comp.shape)]

    def rel_dist(c: Sequence[float] | np.ndarray, r: float) -> np.ndarray:
        return np.sqrt(sum(((g - c[i]) * sp[i]) ** 2 for i, g in enumerate(grid))) / max(r, 1e-3)

    own = rel_dist(top, r_top)
    keep = comp.copy()
    for i in far:
        keep &= own <= rel_dist(centres[i], float(radii[i]))
    return _component_at(keep, seed, sp)


def _bbox(mask: np.ndarray, pad: int = 1) -> tuple[slice, ...]:
    """The mask's bounding box grown by ``pad`` voxels (clipped to the array)."""
    box = ndi.find_objects(mask.astype(np.uint8))[0]
    return tuple(slice(max(b.start - pad, 0), min(b.stop + pad, n))
                 for b, n in zip(box, mask.shape, strict=True))


def _cut_vessels(comp: np.ndarray, seed: Seed, sp: np.ndarray, r_open: float,
                 wall: np.ndarray | None = None) -> np.ndarray:
    """:func:`_cut_vessels_in` on the component's bounding box (same result, less work)."""
    if not comp.any():
        return comp
    box = _bbox(comp)
    local_seed = tuple(int(seed[i]) - box[i].start for i in range(3))
    out = np.zeros_like(comp)
    out[box] = _cut_vessels_in(comp[box], local_seed, sp, r_open,
                               None if wall is None else wall[box])
    return out


def _cut_vessels_in(comp: np.ndarray, seed: Seed, sp: np.ndarray, r_open: float,
                    wall: np.ndarray | None = None) -> np.ndarray:
    """Cut attached vessels: an opening by a ball of ``r_open`` keeps the nodule's body; of what
    it removed, thin trims that stay within ``r_open`` of that body (the nodule's own lobulated
    or discretised border) are given back, longer protrusions (vessels) are dropped except for
    one voxel of regrowth where they meet the nodule, and their fillets are taken off (not
    near the chest wall ``wall``, whose pleural rim is no vessel)."""
    core = _component_at(_open(comp, sp, r_open), seed, sp)
    if not core.any():
        return comp
    out = ndi.binary_dilation(core) & comp
    lab, n = ndi.label(comp & ~core)
    if n:
        d_core = ndi.distance_transform_edt(~core, sampling=sp)
        reach = np.asarray(ndi.maximum(d_core, lab, index=np.arange(1, n + 1)))
        ok = np.flatnonzero(reach <= r_open + TRIM_SLACK_VOXELS * float(sp.max())) + 1
        if ok.size:
            out |= np.isin(lab, ok)
        vessels = (lab > 0) & ~np.isin(lab, ok)
        if wall is not None and wall.any():
            vessels &= ndi.distance_transform_edt(~wall, sampling=sp) > r_open + float(sp.max())
        if vessels.any():
            out &= ~_fillets(out, core, vessels, seed, sp, r_open)
    return _component_at(out, seed, sp)


def _fillets(out: np.ndarray, core: np.ndarray, vessels: np.ndarray, seed: Seed, sp: np.ndarray,
             r_open: float) -> np.ndarray:
    """Where a vessel meets the nodule, balls of the opening straddle both and leave a fillet of
    vessel on the nodule: voxels within ``r_open`` of a cut vessel that lie beyond the nodule's
    largest inscribed ball (by FILLET_BODY_FACTOR, plus one voxel)."""
    dist = ndi.distance_transform_edt(core, sampling=sp)
    vals, pts = _ball_values(dist, seed, max(2.0, r_open), sp)
    if vals.size == 0:
        return np.zeros_like(out)
    top, r_top = pts[int(vals.argmax())], float(vals.max())
    if r_top > FILLET_MAX_RADIUS_MM:  # a large nodule need not be round; its fillets are small
        return np.zeros_like(out)
    grid = np.ogrid[tuple(slice(0, n) for n in out.shape)]
    d_top = np.sqrt(sum(((g - top[i]) * sp[i]) ** 2 for i, g in enumerate(grid)))
    near = ndi.distance_transform_edt(~vessels, sampling=sp) <= r_open
    return out & near & (d_top > FILLET_BODY_FACTOR * r_top + float(sp.min()))


def _nodule_at(smooth: np.ndarray, threshold: float, seed: Seed, sp: np.ndarray,
               lung: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Mask of the nodule at one threshold: pleura removed, vessels cut. Returns
    (mask, chest-wall voxels touching it or None, dense structures that are not the nodule)."""
    dense = smooth > threshold
    comp = _component_at(dense, seed, sp)
    if not comp.any():
        return comp, None, dense
    # nodule radius from the distance to the nearest non-dense voxel at the seed's neighbourhood
    dist = ndi.distance_transform_edt(comp, sampling=sp)
    vals, _ = _ball_values(dist, seed, 2.0, sp)
    r_seed = float(vals.max()) if vals.size else float(sp.min())
    juxta = wall = None
    room = float(min(min(seed[i], dense.shape[i] - 1 - seed[i]) * sp[i] for i in range(3)))
    if _touches_border(comp):
        # the chest wall continues beyond the crop: what a ball bigger than the nodule fits into,
        # and (with a lung mask holding the seed) dense tissue more than two voxels outside it
        radius = float(np.clip(2.0 * r_seed + 2.0, 5.0, 40.0))
        lung_decides = lung is not None and bool(lung[tuple(seed)])
        wall = _open(dense, sp, radius, outside=True, pad_mm=max(0.0, radius - (room - r_seed)),
                     coarse=lung_decides)
        if lung_decides and lung is not None:
            # the lung mask decides where the wall begins: dense tissue more than two voxels
            # outside it is wall, and nothing inside it is (the opening's ball bulges a little
            # across the pleura into a broad-based nodule)
            wall = (wall | (dense & ~ndi.binary_dilation(lung, iterations=2))) & ~lung
        if wall.any() and wall[tuple(seed)]:  # the seed sits in the sliver the ball reaches
            vals, pts = _ball_values((dense & ~wall).astype(np.uint8), seed, 3.0, sp)
            if vals.any():
                d = (((pts - np.asarray(seed)) * sp) ** 2).sum(1)
                d[vals == 0] = np.inf
                seed = _index3(pts[int(d.argmin())])
        if wall.any() and not wall[tuple(seed)]:
            near_wall = ndi.binary_dilation(wall, _struct_ball(1.5 * float(sp.max()), sp))
            comp = _component_at(dense & ~wall, seed, sp)
            touching = wall & ndi.binary_dilation(comp, _struct_ball(1.5 * float(sp.max()), sp))
            juxta = touching if (comp & near_wall).any() else None
    # vessel separation: opening with a radius that follows the nodule, then regrow the border
    r_open = float(np.clip(VESSEL_CUT_FACTOR * r_seed, 0.0, MAX_VESSEL_CUT_MM))
    if r_open >= float(sp.min()):
        comp = _cut_vessels(comp, seed, sp, r_open, wall)
    # a nodule is compact: nothing of it lies much farther from the seed than its own radius
    # allows (this stops leaks along vessels, airways walls and noise at low thresholds)
    reach_mm = COMPACT_FACTOR * r_seed + COMPACT_MARGIN_MM
    grid = np.ogrid[tuple(slice(0, n) for n in comp.shape)]
    d2 = sum(((g - seed[i]) * sp[i]) ** 2 for i, g in enumerate(grid))
    if (comp & (d2 > reach_mm ** 2)).any():
        comp = _component_at(comp & (d2 <= reach_mm ** 2), seed, sp)
        if r_open >= float(sp.min()):  # cut what the sphere left of the leak
            comp = _cut_vessels(comp, seed, sp, r_open, wall)
    comp = _split_touching(comp, seed, sp, r_seed)
    comp = ndi.binary_fill_holes(comp)
    if juxta is not None:  # the contact that counts is the nodule's own, not its vessels'
        juxta = wall & ndi.binary_dilation(comp, _struct_ball(1.5 * float(sp.max()), sp))
        juxta = juxta if juxta.any() else None
    return comp, juxta, dense & ~comp


def _inplane_diameter(mask: np.ndarray, sp: np.ndarray, k: int | None = None) -> float:
    """Equivalent in-plane diameter, from the area averaged over slice ``k`` and its neighbours."""
    if k is None:
        k = int(mask.sum(axis=(1, 2)).argmax())
    ks = [j for j in (k - 1, k, k + 1) if 0 <= j < mask.shape[0]]
    area = float(mask[ks].sum()) / len(ks) * sp[1] * sp[2]
    return 2.0 * np.sqrt(area / np.pi)


def _broad_ring(halo: np.ndarray, ring: np.ndarray, k: int) -> float:
    """Share of the halo's area (slices k-1..k+1) in a ring broad enough to survive an in-plane
    opening: a ground-glass halo does, a blurred or spiculated margin of a solid nodule does not."""
    ks = [j for j in (k - 1, k, k + 1) if 0 <= j < halo.shape[0]]
    broad = ndi.binary_opening(ring[ks], np.ones((1, 2, 2), bool))
    return float(broad.sum()) / max(float(halo[ks].sum()), 1.0)


def segment(crop: Crop) -> Segmentation:
    """Segment the nodule at ``crop.seed``; raises ValueError when there is none."""
    sp = np.asarray(crop.spacing_zyx)
    sm, hu = crop.smooth, crop.hu
    parenchyma = sm[sm < -600]
    background = float(np.median(parenchyma)) if parenchyma.size > 50 else -850.0
    # refine the seed only when the click is on air (e.g. just off a small nodule): nearest dense
    seed = _index3(crop.seed)
    if sm[seed] < background + 150:
        vals, pts = _ball_values(sm, seed, 4.0, sp)
        d2 = (((pts - np.asarray(seed)) * sp) ** 2).sum(1)
        d2[vals < background + 250] = np.inf
        if np.isfinite(d2).any():
            seed = _index3(pts[int(d2.argmin())])
    vals, _ = _ball_values(sm, seed, 2.0, sp)
    peak = float(np.percentile(vals, 90))
    if peak < background + 100:
        raise ValueError(f"nothing denser than lung at the point (peak {peak:.0f} HU, "
                         f"lung {background:.0f} HU)")
    if peak < SOLID_CORE_HU:  # ground-glass core, unless a small solid nodule blurred
        t = 0.5 * (background + peak)
        mask, juxta, other = _nodule_at(sm, t, seed, sp, crop.lung)
        small = _inplane_diameter(mask, sp) < SMALL_MM if mask.any() else True
        if not (small and peak > SMALL_SOLID_PEAK_HU):
                return Segmentation(crop, mask, None, t, None, background, peak,
                                NoduleType.GROUND_GLASS, juxta is not None, seed, other, juxta)
    p_eff = min(peak, 50.0)  # calcium must not push the solid threshold up
    t_solid = 0.5 * (background + p_eff)
    solid, juxta, other = _nodule_at(sm, t_solid, seed, sp, crop.lung)
    t_halo = 0.5 * (background + GGN_REFERENCE_HU)
    halo, juxta_h, _ = _nodule_at(sm, t_halo, seed, sp, crop.lung)
    k = int(halo.sum(axis=(1, 2)).argmax()) if halo.any() else 0
    d_halo, d_solid = _inplane_diameter(halo, sp, k), _inplane_diameter(solid, sp, k)
    ring = halo & ~solid
    if halo.any() and d_halo - d_solid > HALO_MIN_MM and \
            _broad_ring(halo, ring, k) >= HALO_MIN_FRACTION:
        ggn = float(np.median(sm[ring]))
        t_whole = 0.5 * (background + ggn)
        whole, juxta_w, other_w = _nodule_at(sm, t_whole, seed, sp, crop.lung)
        t_core = 0.5 * (ggn + p_eff)
        core = whole & (sm > t_core)
        core = _component_at(core, seed, sp) if core[seed] else core
        contact = juxta_w if juxta_w is not None else juxta
        return Segmentation(crop, whole, core, t_whole, t_core, background, ggn,
                            NoduleType.PART_SOLID, contact is not None, seed, other_w, contact)
    core_vals = hu[solid & (ndi.distance_transform_edt(solid, sampling=sp) > 1.0)]
    core_hu = min(float(np.median(core_vals)), 100.0) if core_vals.size >= 8 else p_eff
    return Segmentation(crop, solid, None, t_solid, None, background, core_hu, NoduleType.SOLID,
                        juxta is not None, seed, other, juxta)


def touches_crop_border(seg: Segmentation) -> bool:
    """True when the nodule reaches the crop's edge (the region was too small)."""
    return _touches_border(seg.mask)
