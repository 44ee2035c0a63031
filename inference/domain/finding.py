"""Findings: what a detector (or a reviewer) says is there, in world mm. Torch-free.

Part of :mod:`inference.domain`, the neutral layer every other package builds on; it imports
no torch, Qt or VTK.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

import numpy as np

from inference.domain.nodule import NoduleAnalysis

Point = tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class Box3D:
    """An axis-aligned box in world LPS mm: ``lo`` is the (x, y, z) minimum corner, ``hi`` the maximum."""

    lo: Point
    hi: Point

    def __post_init__(self) -> None:
        lo = tuple(float(v) for v in self.lo)
        hi = tuple(float(v) for v in self.hi)
        if len(lo) != 3 or len(hi) != 3 or not all(np.isfinite(lo + hi)):
            raise ValueError(f"Box3D needs two finite 3D points, got {self.lo}, {self.hi}")
        if any(b < a for a, b in zip(lo, hi, strict=True)):
            raise ValueError(f"Box3D: hi {hi} is below lo {lo}")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)

    @classmethod
    def around(cls, center: Point, size: Point | float) -> "Box3D":
        c = np.asarray(center, float)
        s = np.broadcast_to(np.asarray(size, float), (3,))
        return cls(tuple(c - s / 2), tuple(c + s / 2))

    @property
    def center(self) -> Point:
        (x0, y0, z0), (x1, y1, z1) = self.lo, self.hi
        return ((x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2)

    @property
    def size(self) -> Point:
        (x0, y0, z0), (x1, y1, z1) = self.lo, self.hi
        return (x1 - x0, y1 - y0, z1 - z0)

    def contains(self, point: Point) -> bool:
        return all(a <= p <= b for a, p, b in zip(self.lo, point, self.hi, strict=True))

    def scaled(self, factor: float) -> "Box3D":
        sx, sy, sz = self.size
        return Box3D.around(self.center, (sx * factor, sy * factor, sz * factor))

    def iou(self, other: "Box3D") -> float:
        lo = np.maximum(self.lo, other.lo)
        hi = np.minimum(self.hi, other.hi)
        inter = float(np.prod(np.clip(hi - lo, 0, None)))
        union = float(np.prod(self.size) + np.prod(other.size)) - inter
        return inter / union if union > 0 else 0.0


class FindingSource(Enum):
    AI = "ai"
    REVIEWER = "reviewer"


@dataclass(frozen=True, slots=True)
class Finding:
    """One candidate nodule.

    ``score`` is the detector's probability-like confidence in 0..1 (1.0 for reviewer-added
    findings). ``analysis`` holds measurement, type, risk and Lung-RADS once computed.
    """

    finding_id: str
    center: Point
    box: Box3D
    score: float
    source: FindingSource = FindingSource.AI
    diameter_mm: float | None = None
    analysis: NoduleAnalysis | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not self.finding_id:
            raise ValueError("Finding needs a non-empty finding_id")
        c = tuple(float(v) for v in self.center)
        if len(c) != 3 or not all(np.isfinite(c)):
            raise ValueError(f"Finding {self.finding_id}: centre must be a finite 3D point")
        object.__setattr__(self, "center", c)
        if not (0.0 <= float(self.score) <= 1.0):
            raise ValueError(f"Finding {self.finding_id}: score {self.score} outside 0..1")
        object.__setattr__(self, "score", float(self.score))

    def evolve(self, **changes: Any) -> "Finding":
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """Which model produced a set of findings (from its manifest.json)."""

    model_id: str
    version: str
    manifest_sha256: str
    name: str = ""
    operating_threshold: float | None = None
