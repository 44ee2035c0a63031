"""The classical candidate generator: multi-scale Hessian "dot" enhancement inside the lung mask,
local maxima, non-maximum suppression. Torch-free; also the baseline detector.

Each scale sigma (mm) is computed on the coarsest grid of a 1/2/4 mm isotropic pyramid whose
spacing is at most 0.7 sigma, so the small scales see 1 mm detail and the large ones stay cheap.
Dot enhancement (eigenvalues |l1| >= |l2| >= |l3| of the scale-normalised Hessian of the HU
image, all negative for a bright blob): response = l3^2 / |l1|; 0 elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from inference.detection.lungs import LungRegion, lung_region
from inference.domain.progress import IsCancelled, Progress, check_cancelled
from inference.imaging.volume import Volume

DEFAULT_SIGMAS = (1.0, 1.5, 2.2, 3.3, 5.0, 7.5)
#: blob radius / sigma for a solid sphere at the scale of maximal normalised response
RADIUS_PER_SIGMA = 3 ** 0.5
#: HU/1000 written outside the lung region before filtering
OUTSIDE_VALUE = -0.85


@dataclass(frozen=True, slots=True)
class Candidate:
    center: tuple[float, float, float]  # world LPS mm
    sigma_mm: float
    response: float

    @property
    def diameter_mm(self) -> float:
        return 2.0 * RADIUS_PER_SIGMA * self.sigma_mm


def _eig_sym3(a, b, c, d, e, f):
    """Eigenvalues of [[a,d,e],[d,b,f],[e,f,c]] elementwise (closed form), sorted ascending."""
    p1 = d * d + e * e + f * f
    q = (a + b + c) / 3.0
    p2 = (a - q) ** 2 + (b - q) ** 2 + (c - q) ** 2 + 2.0 * p1
    p = np.sqrt(np.maximum(p2 / 6.0, 1e-20))
    ba, bb, bc = (a - q) / p, (b - q) / p, (c - q) / p
    bd, be, bf = d / p, e / p, f / p
    det = ba * (bb * bc - bf * bf) - bd * (bd * bc - bf * be) + be * (bd * bf - bb * be)
    r = np.clip(det / 2.0, -1.0, 1.0)
    phi = np.arccos(r) / 3.0
    e1 = q + 2.0 * p * np.cos(phi)
    e3 = q + 2.0 * p * np.cos(phi + 2.0 * np.pi / 3.0)
    e2 = 3.0 * q - e1 - e3
    return e3, e2, e1


def dot_response(img: np.ndarray, sigma_vox: float, sigma_mm: float, valid: np.ndarray) -> np.ndarray:
    """Scale-normalised dot enhancement of ``img`` (HU/1000) at ``sigma_vox``; 0 outside ``valid``."""
    s = ndimage.gaussian_filter(img, sigma_vox, mode="nearest")
    gz, gy, gx = np.gradient(s)
    del s
    hzz, hzy, hzx = np.gradient(gz)
    del gz
    _, hyy, hyx = np.gradient(gy)
    del gy
    hxx = np.gradient(gx, axis=2)
    del gx
    norm = sigma_vox ** 2
    out = np.zeros(img.shape, np.float32)
    sel = valid & ((hzz + hyy + hxx) < 0)
    if not sel.any():
        return out
    l_lo, l_mid, l_hi = _eig_sym3(*(h[sel] * norm for h in (hzz, hyy, hxx, hzy, hzx, hyx)))
    # all negative: l_lo is the largest magnitude, l_hi the smallest
    ok = l_hi < 0
    resp = np.where(ok, (l_hi ** 2) / np.maximum(-l_lo, 1e-9), 0.0)
    out[sel] = resp.astype(np.float32)
    return out


#: the candidate channels: name -> (HU clip low, HU clip high, fill outside the closed lung
#: region with lung density, response gain, largest sigma mm).
#: ``plain``: the scan. ``ground-glass``: clipped at -300 HU, so a -600 HU nodule stands out
#: against clipped vessels as much as a solid one does in ``plain`` (gain 1000/700 puts the
#: clipped contrast on the plain scale). ``pleural``: the chest wall outside the closed lung
#: region replaced by lung density, so a nodule against the pleura, which the closing keeps, is a
#: whole blob rather than a bump on the wall.
CHANNELS = {
    "plain": (-1000.0, 200.0, False, 1.0, 99.0),
    "ground-glass": (-1000.0, -300.0, False, 1000.0 / 700.0, 99.0),
    "pleural": (-1000.0, 200.0, True, 1.0, 5.0),
}
#: measured on inference.phantom tuning phantoms (seeds 100-114): plain + ground-glass raised the
#: classical CPM from 0.806 to 0.822 and found every nodule; adding ``pleural`` found no more
#: and lowered it to 0.737 (filled wall concavities become strong blobs), so it is opt-in
DEFAULT_CHANNELS = ("plain", "ground-glass")


def _pyramid(hu: np.ndarray, spacing_zyx: tuple[float, float, float], region: LungRegion,
             origin_idx: np.ndarray, fill_outside: bool = False,
             clip: tuple[float, float] = (-1000.0, 200.0)) -> list[np.ndarray]:
    """(HU/1000, clipped to ``clip``) on 1, 2 and 4 mm isotropic grids; with ``fill_outside``
    the image outside the closed lung region is set to lung density."""
    img = np.clip(hu.astype(np.float32), clip[0], clip[1]) / 1000.0
    zoom = np.asarray(spacing_zyx) / 1.0
    lvl1 = ndimage.zoom(img, zoom, order=1, mode="nearest", prefilter=False)
    del img
    if fill_outside:
        axes = [origin_idx[k] + np.arange(lvl1.shape[k]) / spacing_zyx[k] for k in range(3)]
        lvl1[~region.on_native_grid(*axes)] = OUTSIDE_VALUE
    out = [lvl1]
    for _ in range(2):
        a = out[-1]
        z, y, x = (s // 2 * 2 for s in a.shape)
        a = a[:z, :y, :x]
        out.append(a.reshape(z // 2, 2, y // 2, 2, x // 2, 2).mean(axis=(1, 3, 5)))
    return out


def generate_candidates(volume: Volume, sigmas_mm: tuple[float, ...] = DEFAULT_SIGMAS,
                        min_response: float = 0.005, max_candidates: int = 600,
                        region: LungRegion | None = None, progress: Progress | None = None,
                        cancelled: IsCancelled | None = None,
                        channels: tuple[str, ...] = DEFAULT_CHANNELS) -> list[Candidate]:
    """Candidates inside the lungs from every channel in ``channels`` (see :data:`CHANNELS`),
    strongest first, after NMS across channels."""
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown or not channels:
        raise ValueError(f"candidate channels {list(channels)}: use one or more of {list(CHANNELS)}")
    if region is None:
        region = lung_region(volume)
    crop = region.index_bounds(volume, margin_mm=8.0)
    hu = volume.voxels[crop]
    origin_idx = np.array([c.start for c in crop], float)
    spacing = volume.spacing_zyx
    found: list[Candidate] = []
    steps = [(ch, s) for ch in channels for s in sigmas_mm if s <= CHANNELS[ch][4]]
    n = 0
    for ch in channels:
        lo, hi, fill, gain, max_sigma = CHANNELS[ch]
        pyr = _pyramid(hu, spacing, region, origin_idx, fill_outside=fill, clip=(lo, hi))
        for sigma in sigmas_mm:
            if sigma > max_sigma:
                continue
            check_cancelled(cancelled)
            found += _scale_candidates(volume, pyr, region, origin_idx, sigma, gain, min_response)
            n += 1
            if progress is not None:
                progress(n / len(steps), f"blob filter {ch} {sigma:g} mm")
        del pyr
    return nms(found, max_candidates)


def _scale_candidates(volume: Volume, pyr: list[np.ndarray], region: LungRegion,
                      origin_idx: np.ndarray, sigma: float, gain: float,
                      min_response: float) -> list[Candidate]:
    spacing = volume.spacing_zyx
    level = 0 if sigma * 0.7 < 2 else (1 if sigma * 0.7 < 4 else 2)
    g = 2.0 ** level
    img = pyr[level]
    axes = [origin_idx[k] + (np.arange(img.shape[k]) * g + (g - 1) / 2) / spacing[k]
            for k in range(3)]
    valid = region.on_native_grid(*axes)
    resp = dot_response(img, sigma / g, sigma, valid)
    if gain != 1.0:
        resp *= np.float32(gain)
    peaks = (resp == ndimage.maximum_filter(resp, size=3)) & (resp > min_response)
    idx = np.argwhere(peaks)
    vals = resp[peaks]
    native = np.stack([axes[k][idx[:, k]] for k in range(3)], -1)
    w = volume.index_to_world(native)
    return [Candidate((float(c[0]), float(c[1]), float(c[2])), float(sigma), float(v))
            for c, v in zip(w, vals, strict=True)]


#: a kept candidate answering at a radius of at least this many mm also drops the smaller,
#: weaker maxima within SURFACE x its radius: the bumps and partial-volume rim of a large nodule
SURFACE_MIN_RADIUS_MM = 5.0
SURFACE = 1.3


def nms(cands: list[Candidate], max_candidates: int, support: float = 0.1,
        surface: float = SURFACE) -> list[Candidate]:
    """Keep the strongest; one candidate per blob.

    A kept candidate's blob radius is the largest radius (>= 2 mm) among the candidates whose own
    blob contains its centre with at least ``support`` x its response: a large nodule answers at
    its own scale with a weaker response than at its edge bumps or its texture, and the small-scale
    maxima inside it would otherwise come back as duplicates. Dropped: every weaker candidate whose
    centre lies within that radius or whose own blob contains the kept centre; and where the kept
    candidate itself answers at a large scale (radius >= SURFACE_MIN_RADIUS_MM), every smaller
    blob within ``surface`` x its own radius (bumps on the nodule's surface). Small nodules beside
    a vessel keep their own candidate: the surface rule uses the kept blob's own scale only.
    """
    cands = sorted(cands, key=lambda c: -c.response)
    if not cands:
        return []
    pos = np.array([c.center for c in cands], float)
    rad = np.array([max(c.diameter_mm / 2, 2.0) for c in cands])
    resp = np.array([c.response for c in cands])
    alive = np.ones(len(cands), bool)
    kept: list[Candidate] = []
    for i, c in enumerate(cands):
        if not alive[i]:
            continue
        kept.append(c)
        if len(kept) >= max_candidates:
            break
        d = np.linalg.norm(pos - pos[i], axis=1)
        holds = (d < rad) & (resp >= support * resp[i])
        r = max(rad[i], float(rad[holds].max()) if holds.any() else 0.0)
        drop = (d < r) | (d < rad)
        if rad[i] >= SURFACE_MIN_RADIUS_MM:
            drop |= (d < surface * rad[i]) & (rad < rad[i])
        alive &= ~drop
    return kept
