"""Pixels of real offscreen renders (Mesa on Xvfb) of the small demo phantom."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from viewer.scene.capture import grab
from viewer.demo_truth import gaussian_saliency, truth_findings
from viewer.scene.heat import BAR_REGION
from viewer.scene.overlays2d import BoxOverlay
from viewer.scene.presets import Preset

pytestmark = pytest.mark.gui
VIEWS = ("axial", "coronal", "sagittal")


def yellow(img: np.ndarray) -> np.ndarray:
    r, g, b = (img[..., i].astype(int) for i in range(3))
    return (r > 230) & (g > 190) & (g < 240) & (b < 40)


def cyan(img: np.ndarray) -> np.ndarray:
    r, g, b = (img[..., i].astype(int) for i in range(3))
    return (b > r + 60) & (g > r + 40)


def bbox(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.nonzero(mask)
    assert rows.size, "nothing of that colour was drawn"
    return np.array([cols.min(), rows.min()]), np.array([cols.max(), rows.max()])


def show_nodule(make, phantom, nodule_index=1, **kw):
    scene = make(**kw)
    scene.set_volume(phantom.volume, with_3d=False)
    finding = truth_findings(phantom.nodules)[nodule_index]
    scene.set_boxes([BoxOverlay(finding.finding_id, finding.box.lo, finding.box.hi)])
    scene.select(finding.finding_id)
    scene.set_crosshair_visible(False)
    return scene, finding


@pytest.mark.parametrize("name", VIEWS)
def test_box_is_drawn_around_the_nodule(offscreen_scene, small_phantom, name):
    scene, finding = show_nodule(offscreen_scene, small_phantom)
    view = scene.views[name]
    img = grab(view.render_window)
    lo, hi = bbox(yellow(img))
    mm_per_px = 2 * view.camera.GetParallelScale() / img.shape[0]
    line = view.boxes.selected.actor.GetProperty().GetLineWidth()
    side_mm = (hi - lo + 1 - line) * mm_per_px  # between the centres of the thick lines
    assert np.allclose(side_mm, finding.box.size[0], atol=1.5 * mm_per_px)  # a square of the box side
    # the nodule is the bright blob inside the box: its centroid is the box centre
    inside = img[lo[1] + 3: hi[1] - 2, lo[0] + 3: hi[0] - 2, 0].astype(float)
    labels, _ = ndimage.label(inside > 175)
    cy, cx = (np.asarray(inside.shape) - 1) // 2
    assert labels[cy, cx] > 0, "the box centre is not on the nodule"
    blob = np.array(ndimage.center_of_mass(labels == labels[cy, cx]))[::-1] + lo + 3
    assert np.all(np.abs(blob - (lo + hi) / 2) <= 2.5)
    # and the renderer's own projection agrees with the pixels
    x, y = view.world_to_display(finding.center)
    assert abs(x - (lo[0] + hi[0]) / 2) <= 2 and abs((img.shape[0] - 1 - y) - (lo[1] + hi[1]) / 2) <= 2


def test_saliency_is_hottest_inside_the_box(offscreen_scene, small_phantom):
    scene, finding = show_nodule(offscreen_scene, small_phantom, names=("axial",))
    view = scene.views["axial"]
    plain = grab(view.render_window).astype(int)
    scene.set_saliency(gaussian_saliency(small_phantom.volume, small_phantom.nodules))
    heat = grab(view.render_window).astype(int)
    redness = (heat[..., 0] - heat[..., 2]) - (plain[..., 0] - plain[..., 2])
    redness[yellow(plain)] = 0  # ignore the box lines themselves
    h, w = redness.shape
    x0, y0, x1, y1 = BAR_REGION  # and the colour bar (normalised viewport, origin bottom left)
    redness[int(h * (1 - y1)):int(h * (1 - y0)) + 1, int(w * x0):int(w * x1) + 1] = 0
    lo, hi = bbox(yellow(plain))
    row, col = np.unravel_index(np.argmax(redness), redness.shape)
    assert lo[0] < col < hi[0] and lo[1] < row < hi[1]
    assert redness.max() > 80
    # opacity 0 removes it; switching it off removes it
    scene.set_saliency_opacity(0.0)
    assert np.abs(grab(view.render_window).astype(int) - plain).max() <= 2
    scene.set_saliency_opacity(0.6)
    scene.set_saliency_visible(False)
    assert np.abs(grab(view.render_window).astype(int) - plain).max() <= 2


def _gray_at(img, view, world, r=4):
    x, y = view.world_to_display(world)
    row, col = int(round(img.shape[0] - 1 - y)), int(round(x))
    return float(img[row - r: row + r + 1, col - r: col + r + 1, 0].mean())


def _hu_around(volume, world, r_mm=2.0):
    idx = np.round(volume.world_to_index(world)).astype(int)
    sp = np.asarray(volume.spacing_zyx)
    rr = np.maximum(0, np.round(r_mm / sp).astype(int))
    z, y, x = idx
    return float(volume.voxels[z, y - rr[1]: y + rr[1] + 1, x - rr[2]: x + rr[2] + 1].mean())


def test_window_presets_map_hu_to_gray(offscreen_scene, small_phantom):
    vol = small_phantom.volume
    scene = offscreen_scene(names=("axial",))
    scene.set_volume(vol, with_3d=False)
    view = scene.views["axial"]
    scene.set_crosshair_visible(False)
    # a lung point and a soft-tissue point on the current slice, from the phantom's lung mask
    k = int(round(vol.world_to_index(scene.cursor)[0]))
    lung = ndimage.binary_erosion(small_phantom.lung_mask[k], iterations=3) & (vol.voxels[k] < -700)
    soft = ndimage.binary_erosion((vol.voxels[k] > -50) & (vol.voxels[k] < 120), iterations=3)
    points = []
    for mask in (lung, soft):
        ys, xs = np.nonzero(mask)
        i = len(ys) // 2
        points.append(vol.index_to_world((k, ys[i], xs[i])))
    grays = {}
    for preset in (Preset.LUNG, Preset.MEDIASTINUM, Preset.BONE):
        scene.apply_preset(preset)
        img = grab(view.render_window)
        for p_index, world in enumerate(points):
            hu = _hu_around(vol, world)
            w = preset.window
            expected = 255 * np.clip((hu - w.low) / w.width, 0, 1)
            got = _gray_at(img, view, world, r=1)
            grays[preset, p_index] = got
            assert abs(got - expected) < 22, (preset, p_index, hu, got, expected)
    assert grays[Preset.LUNG, 0] > 40 and grays[Preset.MEDIASTINUM, 0] < 5  # lung: grey, then black
    assert grays[Preset.MEDIASTINUM, 1] < grays[Preset.LUNG, 1] - 60  # soft tissue darker than white


def test_orientation_on_screen(offscreen_scene, small_phantom):
    """Axial: spine at the bottom; a box to the patient's left, posterior and superior of the
    crosshair sits right/down on axial, right/up on coronal, right/up on sagittal."""
    vol = small_phantom.volume
    scene = offscreen_scene()
    scene.set_volume(vol, with_3d=False)
    scene.apply_preset(Preset.BONE)
    axial = grab(scene.views["axial"].render_window)
    bone = axial[..., 0] > 200
    bone &= ~cyan(axial)
    h, w = bone.shape
    band = bone[:, int(w * 0.4): int(w * 0.6)]  # the midline band holds the spine and sternum
    rows = np.nonzero(band.any(axis=1))[0]
    spine_row = np.nonzero(band[h // 2:].sum(axis=1) > 3)[0]
    assert rows.size and spine_row.size and spine_row.mean() + h // 2 > h * 0.6
    c = np.asarray(scene.cursor)
    scene.set_boxes([BoxOverlay("b", tuple(c - 10), tuple(c + 30))])
    expect = {"axial": (1, 1), "coronal": (1, -1), "sagittal": (1, -1)}  # (right?, down?)
    for name, (sx, sy) in expect.items():
        img = grab(scene.views[name].render_window)
        lo, hi = bbox(yellow(img))
        box_c = (lo + hi) / 2
        cross = cyan(img)
        cross_x = int(np.argmax(cross.sum(axis=0)))
        cross_y = int(np.argmax(cross.sum(axis=1)))
        assert np.sign(box_c[0] - cross_x) == sx, name
        assert np.sign(box_c[1] - cross_y) == sy, name


def test_click_moves_other_planes_to_the_point(offscreen_scene, small_phantom):
    vol = small_phantom.volume
    scene = offscreen_scene()
    scene.set_volume(vol, with_3d=False)
    target = small_phantom.nodules[1].center
    scene.views["axial"].set_cursor(target)  # the axial view at the nodule's level
    x, y = scene.views["axial"].world_to_display(target)
    world = scene.click("axial", x, y)
    assert np.allclose(world, target, atol=1.0)
    for name in ("coronal", "sagittal"):
        view = scene.views[name]
        assert abs(view.plane.to_plane(world)[2]) <= view.step_mm / 2  # the slice through the point
        img = grab(view.render_window)
        cross = cyan(img)
        col, row = int(np.argmax(cross.sum(axis=0))), int(np.argmax(cross.sum(axis=1)))
        px, py = view.world_to_display(world)
        assert abs(px - col) <= 1.5 and abs(img.shape[0] - 1 - py - row) <= 1.5
        assert img[row + 2, col + 2, 0] > 175  # the solid nodule is under the crosshair


def test_slab_mip_shows_the_brightest_voxel_of_the_slab(offscreen_scene, small_phantom):
    vol = small_phantom.volume
    scene = offscreen_scene(names=("axial",))
    scene.set_volume(vol, with_3d=False)
    nod = small_phantom.nodules[1]
    view = scene.views["axial"]
    off = np.asarray(nod.center) + (0, 0, nod.diameter_mm / 2 + 3)  # 3 mm above the nodule
    scene.set_cursor(tuple(off))
    scene.set_crosshair_visible(False)
    thin = _gray_at(grab(view.render_window), view, nod.center, r=1)
    scene.set_slab(16.0)  # reaches to within ~4 mm of the centre: the full solid nodule
    thick = _gray_at(grab(view.render_window), view, nod.center, r=1)
    assert thin < 150 < thick
    with pytest.raises(ValueError, match="slab thickness"):
        view.set_slab(-1.0)


def test_cursor_readout_names_world_voxel_and_hu(offscreen_scene, small_phantom):
    vol = small_phantom.volume
    scene = offscreen_scene(names=("axial",))
    scene.set_volume(vol, with_3d=False)
    nod = small_phantom.nodules[1]
    scene.set_cursor(nod.center)
    view = scene.views["axial"]
    x, y = view.world_to_display(nod.center)
    text = scene.readout("axial", x, y)
    z, yy, xx = np.round(vol.world_to_index(view.display_to_world(x, y))).astype(int)
    assert f"voxel z{z} y{yy} x{xx}" in text
    assert text.endswith(f"{vol.voxels[z, yy, xx]:.0f} HU")
    assert "outside scan" in scene.readout("axial", 2, 2)  # the corner of the view is off the scan
