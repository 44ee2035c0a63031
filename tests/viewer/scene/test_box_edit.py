"""Box editing geometry: handles under the mouse, dragged and drawn world boxes (no window)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inference.domain.finding import Box3D
from viewer.scene.box_edit import (
    MIN_SIZE_MM, BoxEditError, BoxGesture, Handle, Outcome, drag_box, drawn_box, hit_test, plane_rect,
)
from viewer.scene.geometry import Orientation, Plane

BOX = Box3D((10.0, 20.0, 30.0), (30.0, 36.0, 42.0))  # 20 x 16 x 12 mm


def plane(o: Orientation, at=BOX.center) -> Plane:
    return Plane.standard(o, at)


def on_plane(p: Plane, u: float, v: float) -> np.ndarray:
    """The world point at plane coordinates (u, v) relative to the box's projected centre."""
    c = p.to_plane(BOX.center)
    return p.to_world((c[0] + u, c[1] + v, 0.0))


def test_axial_handles_follow_the_screen_sides():
    p = plane(Orientation.AXIAL)  # screen right = +x (patient left), screen up = -y (anterior)
    assert hit_test(p, BOX, on_plane(p, 0, 0), grip_mm=3) is Handle.MOVE
    assert hit_test(p, BOX, (10.5, 28.0, 36.0), grip_mm=3) is Handle.LEFT      # x near lo
    assert hit_test(p, BOX, (31.5, 28.0, 36.0), grip_mm=3) is Handle.RIGHT     # just outside hi x
    assert hit_test(p, BOX, (20.0, 20.0, 36.0), grip_mm=3) is Handle.TOP       # lo y is screen top
    assert hit_test(p, BOX, (20.0, 37.0, 36.0), grip_mm=3) is Handle.BOTTOM
    assert hit_test(p, BOX, (29.0, 19.0, 36.0), grip_mm=3) is Handle.TOP_RIGHT
    assert hit_test(p, BOX, (9.0, 37.5, 36.0), grip_mm=3) is Handle.BOTTOM_LEFT
    assert hit_test(p, BOX, (5.0, 28.0, 36.0), grip_mm=3) is None              # 5 mm off the edge
    assert hit_test(p, BOX, (20.0, 40.0, 36.0), grip_mm=3) is None


def test_a_plane_that_misses_the_box_hits_nothing_unless_its_slab_reaches_it():
    p = plane(Orientation.AXIAL, (20.0, 28.0, 45.0))  # 3 mm above the box's top face
    assert plane_rect(p, BOX) is None
    assert hit_test(p, BOX, (20.0, 28.0, 45.0), grip_mm=3) is None
    assert hit_test(p, BOX, (20.0, 28.0, 45.0), grip_mm=3, slab_half_mm=5.0) is Handle.MOVE


def test_small_boxes_keep_a_middle_to_move_by():
    small = Box3D.around((0.0, 0.0, 0.0), 4.0)
    p = Plane.standard(Orientation.CORONAL, (0.0, 0.0, 0.0))
    assert hit_test(p, small, (0.0, 0.0, 0.0), grip_mm=5) is Handle.MOVE
    assert hit_test(p, small, (1.6, 0.0, 0.0), grip_mm=5) is Handle.RIGHT
    assert hit_test(p, small, (6.0, 0.0, 0.0), grip_mm=5) is Handle.RIGHT
    assert hit_test(p, small, (7.5, 0.0, 0.0), grip_mm=5) is None


def test_moving_in_the_axial_plane_shifts_x_and_y_and_keeps_z():
    p = plane(Orientation.AXIAL)
    moved = drag_box(p, BOX, Handle.MOVE, on_plane(p, 0, 0), on_plane(p, 5, -3))
    assert moved.lo == pytest.approx((15.0, 23.0, 30.0)) and moved.hi == pytest.approx((35.0, 39.0, 42.0))


@pytest.mark.parametrize("orientation, normal_axis", [(Orientation.CORONAL, 1), (Orientation.SAGITTAL, 0)])
def test_other_planes_keep_the_extent_along_their_normal(orientation, normal_axis):
    p = plane(orientation)
    moved = drag_box(p, BOX, Handle.MOVE, on_plane(p, 0, 0), on_plane(p, 4, 6))
    assert moved.size == pytest.approx(BOX.size)
    assert (moved.lo[normal_axis], moved.hi[normal_axis]) == (BOX.lo[normal_axis], BOX.hi[normal_axis])
    assert moved.center[2] == pytest.approx(BOX.center[2] + 6)  # screen up is superior (+z) in both
    resized = drag_box(p, BOX, Handle.TOP, on_plane(p, 0, 6), on_plane(p, 0, 9))
    assert resized.hi[2] == pytest.approx(BOX.hi[2] + 3) and resized.lo[2] == BOX.lo[2]


def test_corner_resize_moves_two_faces_and_stops_at_the_minimum_size():
    p = plane(Orientation.AXIAL)
    start = (30.0, 20.0, 36.0)  # top-right corner on screen: hi x, lo y
    grown = drag_box(p, BOX, Handle.TOP_RIGHT, start, (34.0, 17.0, 36.0))
    assert grown.lo == pytest.approx((10.0, 17.0, 30.0)) and grown.hi == pytest.approx((34.0, 36.0, 42.0))
    crushed = drag_box(p, BOX, Handle.TOP_RIGHT, start, (-50.0, 90.0, 36.0))  # far past the opposite corner
    assert crushed.size[:2] == pytest.approx((MIN_SIZE_MM, MIN_SIZE_MM))
    assert crushed.lo[0] == BOX.lo[0] and crushed.hi[1] == BOX.hi[1]  # the opposite faces stay put
    assert crushed.size[2] == BOX.size[2]


def test_drawn_box_gets_the_larger_side_along_the_normal_centred_on_the_plane():
    p = Plane.standard(Orientation.AXIAL, (0.0, 0.0, -12.5))
    box = drawn_box(p, (4.0, 10.0, -12.5), (-6.0, 4.0, -12.5))
    assert box.lo == pytest.approx((-6.0, 4.0, -17.5)) and box.hi == pytest.approx((4.0, 10.0, -7.5))
    dot = drawn_box(p, (1.0, 1.0, -12.5), (1.5, 1.0, -12.5))
    assert dot.size == pytest.approx((MIN_SIZE_MM,) * 3) and dot.center == pytest.approx((1.25, 1.0, -12.5))
    sag = drawn_box(Plane.standard(Orientation.SAGITTAL, (7.0, 0.0, 0.0)), (7.0, 0.0, 0.0), (7.0, 8.0, 3.0))
    assert sag.lo == pytest.approx((3.0, 0.0, 0.0)) and sag.hi == pytest.approx((11.0, 8.0, 3.0))


def test_oblique_planes_and_bad_tolerances_are_refused_with_a_reason():
    oblique = Plane((1.0, 0.2, 0.0), (0.0, 0.0, 1.0), (0.0, 0.0, 0.0))
    with pytest.raises(BoxEditError, match="axial, coronal or sagittal"):
        hit_test(oblique, BOX, BOX.center, grip_mm=3)
    with pytest.raises(BoxEditError, match="non-negative"):
        hit_test(plane(Orientation.AXIAL), BOX, BOX.center, grip_mm=float("nan"))
    with pytest.raises(BoxEditError, match="handle"):
        BoxGesture(plane(Orientation.AXIAL), BOX.center, 1.0, handle=Handle.MOVE)


def test_gesture_press_and_release_in_place_is_a_click():
    p = plane(Orientation.AXIAL)
    g = BoxGesture.start(p, on_plane(p, 0, 0), selected=("f1", BOX), drawing=False, grip_mm=3, click_mm=2)
    assert g is not None and g.editing and g.handle is Handle.MOVE
    assert g.move(on_plane(p, 1, 1)) is None  # within the click radius: nothing to show yet
    assert g.finish(on_plane(p, 1, 0)).outcome is Outcome.CLICK


def test_gesture_edits_the_selected_box_and_a_round_trip_changes_nothing():
    p = plane(Orientation.AXIAL)
    g = BoxGesture.start(p, on_plane(p, 0, 0), selected=("f1", BOX), drawing=True, grip_mm=3, click_mm=2)
    shown = g.move(on_plane(p, 6, 0))
    assert shown is not None and shown.lo[0] == pytest.approx(16.0)
    result = g.finish(on_plane(p, 8, 0))
    assert result.outcome is Outcome.EDITED and result.key == "f1" and result.box.lo[0] == pytest.approx(18.0)
    back = BoxGesture.start(p, on_plane(p, 0, 0), selected=("f1", BOX), drawing=False, grip_mm=3, click_mm=2)
    back.move(on_plane(p, 9, 0))
    assert back.finish(on_plane(p, 0, 0)).outcome is Outcome.CANCELLED
    esc = BoxGesture.start(p, on_plane(p, 0, 0), selected=("f1", BOX), drawing=False, grip_mm=3, click_mm=2)
    esc.move(on_plane(p, 9, 0))
    assert esc.cancel().outcome is Outcome.CANCELLED and esc.current is None


def test_gesture_outside_the_box_draws_only_with_the_add_tool():
    p = plane(Orientation.AXIAL)
    far = (80.0, 80.0, 36.0)
    assert BoxGesture.start(p, far, selected=("f1", BOX), drawing=False, grip_mm=3, click_mm=2) is None
    assert BoxGesture.start(p, BOX.center, selected=None, drawing=False, grip_mm=3, click_mm=2) is None
    g = BoxGesture.start(p, far, selected=("f1", BOX), drawing=True, grip_mm=3, click_mm=2)
    assert g is not None and not g.editing
    result = g.finish((92.0, 86.0, 36.0))
    assert result.outcome is Outcome.DRAWN and result.key is None
    assert result.box.lo == pytest.approx((80.0, 80.0, 30.0)) and result.box.hi == pytest.approx((92.0, 86.0, 42.0))


coord = st.floats(-40, 40, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(list(Orientation)), st.sampled_from(list(Handle)), coord, coord)
def test_any_drag_keeps_the_normal_extent_and_the_minimum_size(orientation, handle, du, dv):
    p = plane(orientation)
    out = drag_box(p, BOX, handle, on_plane(p, 0, 0), on_plane(p, du, dv))
    k = int(np.argmax(np.abs(p.normal)))
    assert (out.lo[k], out.hi[k]) == (BOX.lo[k], BOX.hi[k])
    assert min(s for i, s in enumerate(out.size) if i != k) >= MIN_SIZE_MM - 1e-9
    if handle is Handle.MOVE:
        assert out.size == pytest.approx(BOX.size)
        assert p.to_plane(out.center)[:2] - p.to_plane(BOX.center)[:2] == pytest.approx((du, dv))
