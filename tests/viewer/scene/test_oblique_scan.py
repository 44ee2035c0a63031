"""An oblique (tilted) acquisition: planes and overlays stay in world mm and line up."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from inference.domain.finding import Box3D
from inference.imaging.volume import Volume
from viewer.scene.capture import grab
from viewer.scene.overlays2d import BoxOverlay

pytestmark = pytest.mark.gui


def oblique_volume(center=(12.0, -20.0, 5.0), radius=6.0):
    """Lung-like background with one solid sphere, on a grid rotated 25° about x and 15° about z."""
    a, b = np.deg2rad(25), np.deg2rad(15)
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    rz = np.array([[np.cos(b), -np.sin(b), 0], [np.sin(b), np.cos(b), 0], [0, 0, 1]])
    direction = rz @ rx
    shape = (48, 96, 96)
    spacing = (1.5, 1.5, 2.0)  # x, y, z
    half = np.array([shape[2] * spacing[0], shape[1] * spacing[1], shape[0] * spacing[2]]) / 2
    origin = -(direction @ half)
    affine = Volume.make_affine(spacing, tuple(origin), direction)
    vol0 = Volume(np.zeros(shape, np.int16), affine)
    idx = np.stack(np.indices(shape), -1).astype(float)
    world = vol0.index_to_world(idx)
    vox = np.full(shape, -850, np.int16)
    vox[((world - center) ** 2).sum(-1) < radius**2] = 40
    return Volume(vox, affine), np.asarray(center), radius


def test_box_and_nodule_line_up_on_every_plane_of_an_oblique_scan(offscreen_scene):
    vol, center, radius = oblique_volume()
    scene = offscreen_scene()
    scene.set_volume(vol, with_3d=False)
    box = Box3D.around(tuple(center), 2.5 * radius)
    scene.set_boxes([BoxOverlay("n", box.lo, box.hi)])
    scene.set_crosshair_visible(False)
    scene.set_cursor(tuple(center))
    for name, view in scene.views.items():
        assert not view._snap  # oblique grid: no slice snapping, the plane goes through the point
        assert abs(view.plane.to_plane(center)[2]) < 1e-6
        img = grab(view.render_window)
        r, g, b = (img[..., i].astype(int) for i in range(3))
        yellow = (r > 230) & (g > 190) & (g < 240) & (b < 40)
        rows, cols = np.nonzero(yellow)
        assert rows.size, name
        box_c = np.array([(cols.min() + cols.max()) / 2, (rows.min() + rows.max()) / 2])
        bright = (r > 175) & ~yellow
        labels, _ = ndimage.label(bright)
        k = labels[int(box_c[1]), int(box_c[0])]
        assert k > 0, f"{name}: no nodule under the box centre"
        blob = np.array(ndimage.center_of_mass(labels == k))[::-1]
        assert np.all(np.abs(blob - box_c) <= 2.0), name
