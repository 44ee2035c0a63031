"""Plane frames, orientation letters and box cuts (numpy only)."""

from __future__ import annotations

import numpy as np
import pytest

from viewer.scene.convert import downsample, downsampled_affine
from viewer.scene.geometry import Orientation, Plane, cut_box, direction_letter
from inference.imaging.volume import Volume


def test_standard_planes_follow_the_radiological_convention():
    letters = {o: Plane.standard(o, (0, 0, 0)).edge_letters() for o in Orientation}
    assert letters[Orientation.AXIAL] == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    assert letters[Orientation.CORONAL] == {"left": "R", "right": "L", "top": "S", "bottom": "I"}
    assert letters[Orientation.SAGITTAL] == {"left": "A", "right": "P", "top": "S", "bottom": "I"}
    # axial is seen from the feet: the normal towards the viewer points inferior
    assert np.allclose(Plane.standard(Orientation.AXIAL, (0, 0, 0)).normal, (0, 0, -1))


def test_oblique_directions_get_two_letters():
    assert direction_letter((1, 0, 0)) == "L"
    assert direction_letter((-0.8, -0.6, 0)) == "RA"
    assert direction_letter((0, 0.1, -1)) == "I"


def test_plane_round_trip_and_validation():
    p = Plane((1, 1, 0), (0, 0, 2), (5, 6, 7))
    pts = np.random.default_rng(1).normal(size=(20, 3)) * 50
    assert np.allclose(p.to_world(p.to_plane(pts)), pts)
    with pytest.raises(ValueError, match="parallel"):
        Plane((1, 0, 0), (2, 0, 0), (0, 0, 0))
    with pytest.raises(ValueError, match="finite"):
        Plane((1, 0, 0), (0, 1, 0), (np.nan, 0, 0))


def test_axial_cut_of_a_box_is_its_rectangle_and_misses_outside():
    lo, hi = (-5.0, 10.0, -3.0), (5.0, 30.0, 3.0)
    poly = cut_box(Plane.standard(Orientation.AXIAL, (0, 0, 1.0)), lo, hi)
    assert poly is not None and len(poly) == 4
    # axial plane coordinates: u = x, v = -y
    assert np.allclose(np.sort(poly[:, 0]), [-5, -5, 5, 5]) and np.allclose(np.sort(poly[:, 1]), [-30, -30, -10, -10])
    assert cut_box(Plane.standard(Orientation.AXIAL, (0, 0, 3.5)), lo, hi) is None


def test_oblique_cut_through_a_cube_corner_is_a_triangle_or_hexagon():
    n = np.array([1.0, 1.0, 1.0]) / np.sqrt(3)
    right = np.cross(n, (0, 0, 1.0))
    up = np.cross(n, right)
    hexagon = cut_box(Plane(tuple(right), tuple(up), (0.0, 0.0, 0.0)), (-1, -1, -1), (1, 1, 1))
    assert hexagon is not None and len(hexagon) == 6
    triangle = cut_box(Plane(tuple(right), tuple(up), tuple(n * 1.5)), (-1, -1, -1), (1, 1, 1))
    assert triangle is not None and len(triangle) == 3


def test_downsampled_copy_keeps_world_positions():
    vox = np.zeros((40, 300, 260), np.int16)
    vox[20:24, 100:104, 60:64] = 1000
    vol = Volume(vox, Volume.make_affine((0.7, 0.7, 2.5), (-90.0, -100.0, -300.0)))
    small, strides = downsample(vol, max_dim=128)
    assert max(small.shape) <= 128 and strides == (1, 3, 3)
    aff = downsampled_affine(vol.affine, strides)
    from scipy import ndimage

    k = np.array(ndimage.center_of_mass(small.astype(float)))  # (z, y, x) on the small grid
    small_world = aff[:3, :3] @ k[::-1] + aff[:3, 3]
    assert np.allclose(small_world, vol.index_to_world((21.5, 101.5, 61.5)), atol=0.7)  # within one original voxel
