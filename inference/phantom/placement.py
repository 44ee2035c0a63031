"""Where random nodules go: inside the lung, against the chest wall, or beside a vessel."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from inference.phantom.nodules import Attachment, NoduleSpec, PhantomError
from inference.phantom.trees import Tube


class Placer:
    """Chooses nodule centres (grid mm, z y x) from a lung mask's distance map."""

    def __init__(self, lung: np.ndarray, spacing_zyx: tuple[float, float, float],
                 vessels: list[Tube], rng: np.random.Generator,
                 vox: np.ndarray | None = None) -> None:
        sp = np.asarray(spacing_zyx, float)
        self.lung, self.vox, self.sp = lung, vox, sp
        self.stride = np.maximum(1, np.floor(3.0 / sp)).astype(int)  # ~3 mm grid
        sz, sy, sx = self.stride
        coarse = lung[::sz, ::sy, ::sx]
        self.csp = sp * self.stride
        self.dist = ndimage.distance_transform_edt(coarse, sampling=self.csp).astype(np.float32)
        cy = (lung.shape[2] - 1) / 2.0 * sp[2]
        self.lateral = np.abs(np.arange(coarse.shape[2]) * self.csp[2] - cy)[None, None, :]
        self.half_x = lung.shape[2] * sp[2] / 2.0
        t = np.arange(coarse.shape[0]) * self.csp[0] / max(lung.shape[0] * sp[0], 1e-6)
        self.chest_level = ((t > 0.35) & (t < 0.8))[:, None, None]  # costal pleura, not the domes
        self.vessels = [t for t in vessels if t.generation >= 1 and 0.9 <= t.r0 <= 3.5]
        self.rng = rng
        self.taken: list[tuple[np.ndarray, float]] = []

    def _free(self, p: np.ndarray, radius: float) -> bool:
        return all(np.linalg.norm(p - q) > radius + r + 6.0 for q, r in self.taken)

    def _clear(self, p: np.ndarray, radius: float) -> bool:
        """Few vessels where the nodule goes: under 4 % of its lung voxels are tissue."""
        if self.vox is None:
            return True
        c = p / self.sp
        ext = (radius + 1.0) / self.sp
        lo = np.maximum(np.floor(c - ext).astype(int), 0)
        hi = np.minimum(np.ceil(c + ext).astype(int) + 1, self.vox.shape)
        box = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
        zz, yy, xx = np.ogrid[box]
        ball = ((zz * self.sp[0] - p[0]) ** 2 + (yy * self.sp[1] - p[1]) ** 2
                + (xx * self.sp[2] - p[2]) ** 2) <= (radius + 1.0) ** 2
        inside = ball & self.lung[box]
        return bool(inside.any() and (self.vox[box][inside] > -500).mean() < 0.04)

    def _pick(self, candidates: np.ndarray, radius: float) -> np.ndarray | None:
        idx = np.argwhere(candidates)
        if len(idx) == 0:
            return None
        fallback = None
        for i in self.rng.permutation(len(idx))[:400]:
            p = (idx[i] + self.rng.uniform(-0.5, 0.5, 3)) * self.csp
            if self._free(p, radius):
                if self._clear(p, radius):
                    return p
                fallback = p if fallback is None else fallback
        return fallback
        return None

    def _dist_at(self, p: np.ndarray) -> float:
        k = np.clip(np.rint(p / self.csp).astype(int), 0, np.array(self.dist.shape) - 1)
        return float(self.dist[tuple(k)])

    def place(self, spec: NoduleSpec) -> np.ndarray:
        r = spec.diameter_mm / 2.0
        p: np.ndarray | None = None
        if spec.attachment is Attachment.JUXTA_PLEURAL:
            # centre inside the lateral lung, ~0.6 r from the wall: the nodule abuts the pleura
            band = (self.dist >= 0.45 * r) & (self.dist <= 0.75 * r + self.csp.max())
            p = self._pick(band & (self.lateral > 0.5 * self.half_x) & self.chest_level, r)
            if p is None:
                p = self._pick(band & (self.lateral > 0.5 * self.half_x), r)
        elif spec.attachment is Attachment.JUXTA_VASCULAR:
            for i in self.rng.permutation(len(self.vessels)):
                t = self.vessels[i]
                a, b = np.asarray(t.a), np.asarray(t.b)
                axis = (b - a) / max(np.linalg.norm(b - a), 1e-6)
                on = a + (b - a) * self.rng.uniform(0.3, 0.7)
                perp = np.cross(axis, self.rng.normal(size=3))
                perp /= max(np.linalg.norm(perp), 1e-6)
                q = on + perp * (r + 0.4 * t.r0)
                if self._dist_at(q) >= r + 3.0 and self._free(q, r):
                    p = q
                    break
        else:
            p = self._pick(self.dist >= r + 4.0, r)
        if p is None:
            raise PhantomError(
                f"no room for a {spec.diameter_mm} mm {spec.attachment.value} nodule in this "
                "phantom's lungs; use a larger shape_zyx, fewer or smaller nodules, or give a centre")
        self.taken.append((p, r))
        return p

    def reserve(self, p: np.ndarray, radius: float) -> None:
        self.taken.append((np.asarray(p, float), radius))
