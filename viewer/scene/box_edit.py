"""Editing and drawing finding boxes with the mouse in a slice view: pure geometry (numpy only).

A slice view shows a plane (:class:`~viewer.scene.geometry.Plane`) whose screen axes follow the
world axes, so an axis-aligned world box appears as a rectangle in plane coordinates (u, v). A press
on that rectangle picks a :class:`Handle`: inside moves the box, near an edge or a corner resizes
those faces. Dragging changes only the two in-plane axes; the box keeps its extent along the
plane's normal. A new box drawn with the add-nodule tool gets, along the normal, the larger of its
two in-plane sides, centred on the plane.

Everything is in world LPS mm; the caller converts pixel tolerances with the view's mm per pixel.
:class:`BoxGesture` holds one left-button gesture from press to release and says what it was: a
click (no movement beyond ``click_mm``), an edited box, a drawn box, or nothing (cancelled).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from inference.domain.finding import Box3D
from viewer.scene.geometry import Plane, box_corners
from viewer.points import as_point

Point = tuple[float, float, float]

#: smallest in-plane side a dragged or drawn box may have (mm)
MIN_SIZE_MM = 2.0
#: a plane axis counts as a world axis when its largest component is at least this
_AXIS_COS = 1.0 - 1e-6


class BoxEditError(ValueError):
    """The box cannot be edited in this plane (an oblique plane, a degenerate drag)."""


class Handle(Enum):
    """What a press grabs: the whole box, or the faces on the given screen sides.
    Values are (u side, v side): -1 the low side (screen left / bottom), +1 the high side, 0 none."""

    MOVE = (0, 0)
    LEFT = (-1, 0)
    RIGHT = (1, 0)
    BOTTOM = (0, -1)
    TOP = (0, 1)
    BOTTOM_LEFT = (-1, -1)
    BOTTOM_RIGHT = (1, -1)
    TOP_LEFT = (-1, 1)
    TOP_RIGHT = (1, 1)

    @property
    def sides(self) -> tuple[int, int]:
        return self.value


class Outcome(Enum):
    CLICK = "click"          # pressed and released in place: the caller's ordinary click
    EDITED = "edited"        # an existing box was moved or resized
    DRAWN = "drawn"          # a new box was drawn
    CANCELLED = "cancelled"  # Esc, or a drag that ended where it started


@dataclass(frozen=True, slots=True)
class GestureResult:
    outcome: Outcome
    box: Box3D | None = None
    key: str | None = None


def _axis(vec: tuple[float, float, float]) -> tuple[int, float]:
    """(world axis index, sign) of a plane axis that follows a world axis."""
    v = np.asarray(vec, float)
    k = int(np.argmax(np.abs(v)))
    if abs(v[k]) < _AXIS_COS:
        raise BoxEditError(f"box editing needs a plane along the world axes; this one has an axis "
                           f"{tuple(round(float(c), 3) for c in v)}: use the axial, coronal or sagittal view")
    return k, float(np.sign(v[k]))


def plane_rect(plane: Plane, box: Box3D, slab_half_mm: float = 0.0) -> tuple[np.ndarray, np.ndarray] | None:
    """(lo, hi) of the box's outline in plane (u, v) mm; None when the plane (or the slab of
    ``slab_half_mm`` either side of it) does not meet the box."""
    _axis(plane.right)
    _axis(plane.up)
    uvw = plane.to_plane(box_corners(box.lo, box.hi))
    w = uvw[:, 2]
    eps = 1e-6
    if w.min() > slab_half_mm + eps or w.max() < -slab_half_mm - eps:
        return None
    return uvw[:, :2].min(axis=0), uvw[:, :2].max(axis=0)


def _side(c: float, a: float, b: float, grip: float) -> int:
    """-1 near the low edge ``a``, +1 near the high edge ``b``, 0 in between. Inside the box the
    grip is at most a quarter of the side, so small boxes keep a middle to move them by."""
    inner = min(grip, (b - a) / 4)
    near_a = a - grip <= c <= a + inner
    near_b = b - inner <= c <= b + grip
    if near_a and near_b:
        return -1 if abs(c - a) <= abs(c - b) else 1
    return -1 if near_a else 1 if near_b else 0


def hit_test(plane: Plane, box: Box3D, world: Point | np.ndarray, grip_mm: float,
             slab_half_mm: float = 0.0) -> Handle | None:
    """The handle under ``world`` (a point on the plane), or None when it misses the box's
    outline by more than ``grip_mm``."""
    if not grip_mm >= 0:
        raise BoxEditError(f"grip tolerance must be a non-negative number of mm, got {grip_mm}")
    rect = plane_rect(plane, box, slab_half_mm)
    if rect is None:
        return None
    lo, hi = rect
    u, v = plane.to_plane(world)[:2]
    if not (lo[0] - grip_mm <= u <= hi[0] + grip_mm and lo[1] - grip_mm <= v <= hi[1] + grip_mm):
        return None
    return Handle((_side(u, lo[0], hi[0], grip_mm), _side(v, lo[1], hi[1], grip_mm)))


def _to_world_box(plane: Plane, lo_uv: np.ndarray, hi_uv: np.ndarray, normal_lo_hi: tuple[float, float],
                  k_normal: int) -> Box3D:
    """A world box from an in-plane rectangle and the world range along the normal's axis."""
    lo, hi = np.zeros(3), np.zeros(3)
    corners = plane.to_world(np.array([[lo_uv[0], lo_uv[1]], [hi_uv[0], hi_uv[1]]]))
    for axis_vec in (plane.right, plane.up):
        k, _ = _axis(axis_vec)
        lo[k], hi[k] = corners[:, k].min(), corners[:, k].max()
    lo[k_normal], hi[k_normal] = normal_lo_hi
    return Box3D(as_point(lo), as_point(hi))


def _normal_axis(plane: Plane) -> int:
    ks = {_axis(plane.right)[0], _axis(plane.up)[0]}
    return ({0, 1, 2} - ks).pop()


def drag_box(plane: Plane, box: Box3D, handle: Handle, start: Point | np.ndarray, now: Point | np.ndarray,
             min_size_mm: float = MIN_SIZE_MM) -> Box3D:
    """``box`` after dragging ``handle`` from world ``start`` to world ``now`` in ``plane``.
    A resized side stops ``min_size_mm`` short of the opposite one (the box never flips)."""
    rect = plane_rect(plane, box, slab_half_mm=np.inf)
    if rect is None:  # an infinite slab meets every box
        raise BoxEditError("the box does not meet the plane")
    lo, hi = (r.copy() for r in rect)
    delta = plane.to_plane(now)[:2] - plane.to_plane(start)[:2]
    if handle is Handle.MOVE:
        lo, hi = lo + delta, hi + delta
    else:
        for i, side in enumerate(handle.sides):
            if side < 0:
                lo[i] = min(lo[i] + delta[i], hi[i] - min_size_mm)
            elif side > 0:
                hi[i] = max(hi[i] + delta[i], lo[i] + min_size_mm)
    k = _normal_axis(plane)
    return _to_world_box(plane, lo, hi, (box.lo[k], box.hi[k]), k)


def drawn_box(plane: Plane, start: Point | np.ndarray, end: Point | np.ndarray,
              min_size_mm: float = MIN_SIZE_MM) -> Box3D:
    """The box drawn from ``start`` to ``end`` (world points on ``plane``): each in-plane side at
    least ``min_size_mm`` (grown about the centre); along the normal, the larger in-plane side,
    centred on the plane."""
    a, b = plane.to_plane(start), plane.to_plane(end)
    lo, hi = np.minimum(a[:2], b[:2]), np.maximum(a[:2], b[:2])
    centre, size = (lo + hi) / 2, np.maximum(hi - lo, min_size_mm)
    lo, hi = centre - size / 2, centre + size / 2
    k = _normal_axis(plane)
    mid = float(plane.to_world((0.0, 0.0, (a[2] + b[2]) / 2))[k])
    half = float(size.max()) / 2
    return _to_world_box(plane, lo, hi, (mid - half, mid + half), k)


class BoxGesture:
    """One left-button gesture in a slice view, from press to release (or Esc).

    Made by :meth:`start`, fed world points with :meth:`move` (returns the box to show, or None
    while the pointer is still within ``click_mm`` of the press) and ended with :meth:`finish`
    or :meth:`cancel`."""

    def __init__(self, plane: Plane, start: Point | np.ndarray, click_mm: float,
                 handle: Handle | None = None, box: Box3D | None = None, key: str | None = None) -> None:
        if (handle is None) != (box is None):
            raise BoxEditError("a box gesture edits a box with a handle, or draws one with neither")
        self.plane, self.click_mm = plane, float(click_mm)
        self.start_point = np.asarray(start, float)
        self.handle, self.box, self.key = handle, box, key
        self.dragging = False
        self.current: Box3D | None = None

    @classmethod
    def start(cls, plane: Plane, world: Point | np.ndarray, *, selected: tuple[str, Box3D] | None,
              drawing: bool, grip_mm: float, click_mm: float, slab_half_mm: float = 0.0) -> "BoxGesture | None":
        """The gesture a press at ``world`` begins: editing ``selected`` (key, box) when the press
        is on its outline, else drawing when ``drawing`` (the add-nodule tool), else None (the
        press is the view's ordinary click)."""
        if selected is not None:
            handle = hit_test(plane, selected[1], world, grip_mm, slab_half_mm)
            if handle is not None:
                return cls(plane, world, click_mm, handle, selected[1], selected[0])
        if drawing:
            return cls(plane, world, click_mm)
        return None

    @property
    def editing(self) -> bool:
        return self.box is not None

    def move(self, world: Point | np.ndarray) -> Box3D | None:
        if not self.dragging:
            d = self.plane.to_plane(world)[:2] - self.plane.to_plane(self.start_point)[:2]
            self.dragging = bool(np.hypot(*d) > self.click_mm)
        if not self.dragging:
            return None
        if self.box is not None and self.handle is not None:
            self.current = drag_box(self.plane, self.box, self.handle, self.start_point, world)
        else:
            self.current = drawn_box(self.plane, self.start_point, world)
        return self.current

    def finish(self, world: Point | np.ndarray) -> GestureResult:
        box = self.move(world)
        if box is None:
            return GestureResult(Outcome.CLICK)
        if self.box is None:
            return GestureResult(Outcome.DRAWN, box)
        if np.allclose(box.lo, self.box.lo) and np.allclose(box.hi, self.box.hi):
            return GestureResult(Outcome.CANCELLED, key=self.key)
        return GestureResult(Outcome.EDITED, box, self.key)

    def cancel(self) -> GestureResult:
        self.current = None
        return GestureResult(Outcome.CANCELLED, key=self.key)
