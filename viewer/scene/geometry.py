"""Plane geometry for the slice views, in world LPS mm (numpy only, no VTK).

A :class:`Plane` is an orthonormal frame: ``right`` and ``up`` are the world directions that point
to the screen's right and top, ``normal = right x up`` points towards the viewer, ``origin`` is a
world point on the plane. Plane coordinates (u, v, w) are mm along (right, up, normal) from the
origin; slice views reslice and draw everything in plane coordinates, so scans with any
orientation and overlays on any grid line up.

Conventions (radiological): axial is seen from the feet with anterior up and the patient's right
on screen left; coronal is seen from the front with superior up; sagittal is seen from the
patient's left with superior up and anterior on screen left.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

Point = tuple[float, float, float]


class Orientation(Enum):
    AXIAL = "axial"
    CORONAL = "coronal"
    SAGITTAL = "sagittal"


#: (screen right, screen up) in LPS for each orientation
_AXES: dict[Orientation, tuple[Point, Point]] = {
    Orientation.AXIAL: ((1.0, 0.0, 0.0), (0.0, -1.0, 0.0)),
    Orientation.CORONAL: ((1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
    Orientation.SAGITTAL: ((0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
}

_LETTERS = (("R", "L"), ("A", "P"), ("I", "S"))  # LPS: -x R / +x L, -y A / +y P, -z I / +z S


@dataclass(frozen=True, slots=True)
class Plane:
    """An oriented plane in world mm; see the module docstring."""

    right: Point
    up: Point
    origin: Point

    def __post_init__(self) -> None:
        r = np.asarray(self.right, float)
        u = np.asarray(self.up, float)
        if r.shape != (3,) or u.shape != (3,) or not np.isfinite(np.r_[r, u, self.origin]).all():
            raise ValueError(f"Plane needs finite 3D vectors, got {self.right}, {self.up}")
        r = r / np.linalg.norm(r)
        u = u - r * float(r @ u)
        if np.linalg.norm(u) < 1e-6:
            raise ValueError("Plane: right and up are parallel")
        u = u / np.linalg.norm(u)
        object.__setattr__(self, "right", tuple(float(v) for v in r))
        object.__setattr__(self, "up", tuple(float(v) for v in u))
        object.__setattr__(self, "origin", tuple(float(v) for v in self.origin))

    @classmethod
    def standard(cls, orientation: Orientation, origin: Point) -> "Plane":
        right, up = _AXES[orientation]
        return cls(right, up, origin)

    @property
    def normal(self) -> np.ndarray:
        return np.cross(self.right, self.up)

    def matrix(self) -> np.ndarray:
        """4x4 matrix mapping plane (u, v, w, 1) → world (x, y, z, 1)."""
        m = np.eye(4)
        m[:3, 0] = self.right
        m[:3, 1] = self.up
        m[:3, 2] = self.normal
        m[:3, 3] = self.origin
        return m

    def to_plane(self, world: np.ndarray | Point) -> np.ndarray:
        """World points (..., 3) → plane coordinates (u, v, w) (..., 3)."""
        d = np.asarray(world, float) - np.asarray(self.origin)
        return np.stack([d @ np.asarray(self.right), d @ np.asarray(self.up), d @ self.normal], -1)

    def to_world(self, uvw: np.ndarray | Point) -> np.ndarray:
        """Plane coordinates (..., 2 or 3) → world points (..., 3)."""
        p = np.asarray(uvw, float)
        if p.shape[-1] == 2:
            p = np.concatenate([p, np.zeros(p.shape[:-1] + (1,))], -1)
        return p @ self.matrix()[:3, :3].T + np.asarray(self.origin)

    def moved_to(self, world: Point) -> "Plane":
        """The parallel plane through ``world`` (same in-plane origin, shifted along the normal)."""
        w = float(self.to_plane(world)[2])
        return Plane(self.right, self.up, tuple(np.asarray(self.origin) + w * self.normal))

    def edge_letters(self) -> dict[str, str]:
        """Orientation letters for the screen edges: keys 'left', 'right', 'top', 'bottom'."""
        return {
            "right": direction_letter(self.right),
            "left": direction_letter(-np.asarray(self.right)),
            "top": direction_letter(self.up),
            "bottom": direction_letter(-np.asarray(self.up)),
        }


def direction_letter(vec: np.ndarray | Point, oblique_below: float = 0.9) -> str:
    """Patient-direction letters of a world direction: 'L', 'A', … ; two letters when oblique
    (dominant first, e.g. 'LP')."""
    v = np.asarray(vec, float)
    order = np.argsort(-np.abs(v))
    letters = _LETTERS[order[0]][int(v[order[0]] > 0)]
    if abs(v[order[0]]) < oblique_below * np.linalg.norm(v) and abs(v[order[1]]) > 1e-6:
        letters += _LETTERS[order[1]][int(v[order[1]] > 0)]
    return letters


def box_corners(lo: Point, hi: Point) -> np.ndarray:
    """The 8 corners (8, 3) of an axis-aligned world box."""
    return np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])


_EDGES = [(a, b) for a in range(8) for b in range(a + 1, 8) if bin(a ^ b).count("1") == 1]


def cut_box(plane: Plane, lo: Point, hi: Point) -> np.ndarray | None:
    """Polygon (n, 2) in plane (u, v) where the plane cuts a world box, ordered around its
    centre; None when the plane misses the box. Axis-aligned planes give rectangles."""
    w = plane.to_plane(box_corners(lo, hi))
    pts = []
    for a, b in _EDGES:
        wa, wb = w[a, 2], w[b, 2]
        if (wa <= 0 <= wb) or (wb <= 0 <= wa):
            if abs(wb - wa) < 1e-12:
                pts.extend([w[a, :2], w[b, :2]])
            else:
                t = wa / (wa - wb)
                pts.append(w[a, :2] + t * (w[b, :2] - w[a, :2]))
    if len(pts) < 3:
        return None
    p = np.unique(np.round(np.asarray(pts), 6), axis=0)
    if len(p) < 3:
        return None
    c = p.mean(axis=0)
    ang = np.arctan2(p[:, 1] - c[1], p[:, 0] - c[0])
    return p[np.argsort(ang)]


def plane_extent(plane: Plane, corners_world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(u, v) min and max of world points projected on the plane."""
    uv = plane.to_plane(corners_world)[:, :2]
    return uv.min(axis=0), uv.max(axis=0)
