"""The key image of one finding: the axial slice through its centre, cropped around its box,
with the box outline and the saliency heat map blended on top (numpy only, no VTK, no Qt)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from inference.imaging.volume import Volume
from viewer.scene.presets import Preset, WindowLevel

BOX_RGB = (255, 215, 0)
Point = Sequence[float]


def heat_rgb(values: np.ndarray) -> np.ndarray:
    """0..1 → black-red-yellow-white ramp (float RGB 0..1), monotonic in brightness."""
    v = np.clip(values, 0.0, 1.0)[..., None]
    return np.clip(np.concatenate([3 * v, 3 * v - 1, 3 * v - 2], axis=-1), 0.0, 1.0)


def _saliency_on(volume: Volume, saliency: Volume, z: int, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Saliency sampled (nearest) at the centres of the crop's voxels; 0 outside its grid."""
    yy, xx = np.meshgrid(ys, xs, indexing="ij")
    idx = np.stack([np.full_like(yy, z), yy, xx], axis=-1).astype(float)
    sidx = np.rint(saliency.world_to_index(volume.index_to_world(idx))).astype(int)
    shape = np.array(saliency.voxels.shape)
    inside = np.all((sidx >= 0) & (sidx < shape), axis=-1)
    out = np.zeros(yy.shape, np.float32)
    s = sidx[inside]
    out[inside] = saliency.voxels[s[:, 0], s[:, 1], s[:, 2]]
    return out


def key_image(volume: Volume, center: Point, lo: Point, hi: Point, saliency: Volume | None = None, *,
              window: WindowLevel = Preset.LUNG.window, margin: float = 2.5, min_half_mm: float = 15.0,
              size_px: int = 192, opacity: float = 0.6, show_from: float = 0.2) -> np.ndarray:
    """uint8 (h, w, 3), row 0 at the top (anterior), patient left on the right (radiological)."""
    cz, cy, cx = np.rint(volume.world_to_index(np.asarray(center, float))).astype(int)
    nz, ny, nx = volume.voxels.shape
    cz = int(np.clip(cz, 0, nz - 1))
    sx, sy, _ = volume.spacing_xyz
    half_mm = max(min_half_mm, margin * max(abs(hi[0] - lo[0]), abs(hi[1] - lo[1])) / 2)
    hx, hy = max(4, int(round(half_mm / sx))), max(4, int(round(half_mm / sy)))
    ys = np.arange(max(0, cy - hy), min(ny, cy + hy + 1))
    xs = np.arange(max(0, cx - hx), min(nx, cx + hx + 1))
    if ys.size == 0 or xs.size == 0:
        return np.zeros((size_px, size_px, 3), np.uint8)
    hu = volume.voxels[cz][np.ix_(ys, xs)].astype(np.float32)
    gray = np.clip((hu - window.low) / max(window.width, 1.0), 0.0, 1.0)
    rgb = np.repeat(gray[..., None], 3, axis=-1)
    if saliency is not None:
        sal = _saliency_on(volume, saliency, cz, ys, xs)
        peak = float(sal.max())
        if peak > 0:
            norm = sal / peak
            alpha = np.where(norm >= show_from, opacity, 0.0)[..., None]
            rgb = rgb * (1 - alpha) + heat_rgb(norm) * alpha
    img = (255 * rgb).astype(np.uint8)
    corners = volume.world_to_index(np.array([lo, hi], float))
    (y0, y1), (x0, x1) = (sorted(np.rint(corners[:, 1]).astype(int)), sorted(np.rint(corners[:, 2]).astype(int)))
    y0, y1, x0, x1 = y0 - int(ys[0]), y1 - int(ys[0]), x0 - int(xs[0]), x1 - int(xs[0])
    h, w = img.shape[:2]
    for r in (y0, y1):
        if 0 <= r < h:
            img[r, max(0, x0):min(w, x1 + 1)] = BOX_RGB
    for c in (x0, x1):
        if 0 <= c < w:
            img[max(0, y0):min(h, y1 + 1), c] = BOX_RGB
    scale = max(1, size_px // max(h, w))
    return np.ascontiguousarray(img.repeat(scale, axis=0).repeat(scale, axis=1))
