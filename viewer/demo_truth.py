"""Demo overlays from a phantom's known nodules (numpy only): findings whose boxes are the true
nodules, and a Gaussian-blob saliency crop on the scan's grid. Shown only behind the
"Demo: phantom truth" toggle; a detector's output uses the same overlay API."""

from __future__ import annotations

from typing import Iterable

import numpy as np

from inference.domain.finding import Box3D, Finding, FindingSource
from inference.imaging.volume import Volume


def _center_diameter(nodule) -> tuple[np.ndarray, float]:
    center = np.asarray(getattr(nodule, "center_xyz", None) or nodule.center, float)
    diameter = float(nodule.diameter_mm)
    return center, diameter


def truth_findings(nodules: Iterable, margin: float = 1.25) -> list[Finding]:
    """One finding per true nodule: centre, box ``margin`` times the diameter, score 1.0."""
    out = []
    for i, n in enumerate(nodules, start=1):
        c, d = _center_diameter(n)
        out.append(Finding(f"truth-{i}", tuple(c), Box3D.around(tuple(c), d * margin), 1.0,
                           FindingSource.REVIEWER, diameter_mm=d, extra={"demo": True}))
    return out


def gaussian_saliency(volume: Volume, nodules: Iterable, sigma_per_diameter: float = 0.35) -> Volume | None:
    """Float32 0..1 crop on the scan's grid covering every nodule's box (x1.5), each nodule a
    Gaussian blob of sigma ``sigma_per_diameter`` x diameter; None without nodules."""
    items = [_center_diameter(n) for n in nodules]
    if not items:
        return None
    corners = []
    for c, d in items:
        corners += [c - 0.75 * d, c + 0.75 * d]
    idx = volume.world_to_index(np.asarray(corners))
    lo = np.clip(np.floor(idx.min(axis=0)).astype(int), 0, np.asarray(volume.shape) - 1)
    hi = np.clip(np.ceil(idx.max(axis=0)).astype(int) + 1, 1, np.asarray(volume.shape))
    zz, yy, xx = np.meshgrid(*(np.arange(a, b) for a, b in zip(lo, hi, strict=True)), indexing="ij")
    world = volume.index_to_world(np.stack([zz, yy, xx], -1).astype(np.float64))
    sal = np.zeros(zz.shape, np.float32)
    for c, d in items:
        sigma = max(d * sigma_per_diameter, 1.0)
        blob = np.exp(-((world - c) ** 2).sum(-1) / (2 * sigma**2))
        np.maximum(sal, blob.astype(np.float32), out=sal)
    shift = np.eye(4)
    shift[:3, 3] = lo[::-1]  # (x, y, z) index offset of the crop
    return Volume(sal, volume.affine @ shift)
