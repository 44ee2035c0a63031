"""Segmentation and measurement on synthetic nodules of known size (partial volume, blur, noise)."""

import numpy as np
import pytest
from nodule_synth import make_nodule_volume

from inference.nodules import NoduleType, analyze


def _tol(d):
    return max(0.5, 0.1 * d)


@pytest.mark.parametrize("d,spacing", [(4.0, (1.25, 0.7, 0.7)), (6.0, (1.25, 0.7, 0.7)),
                                       (10.0, (2.5, 0.7, 0.7)), (20.0, (1.0, 0.7, 0.7)),
                                       (30.0, (1.25, 0.8, 0.8))])
def test_solid_sphere_mean_diameter_and_volume(d, spacing):
    vol, c, true_v = make_nodule_volume(d, "solid", spacing=spacing, seed=int(d))
    r = analyze(vol, c)
    m = r.analysis.measurement
    assert abs(m.mean_diameter_mm - d) <= _tol(d), m
    assert abs(m.max_3d_diameter_mm - d) <= max(1.0, 0.12 * d), m
    if d >= 6:
        assert abs(m.volume_mm3 - true_v) / true_v <= 0.15, (m.volume_mm3, true_v)
    assert r.analysis.nodule_type is NoduleType.SOLID
    assert (-200 if d >= 6 else -350) < m.mean_hu < 60  # blur lowers small nodules' HU
    assert m.short_axis_mm <= m.long_axis_mm


def test_ellipsoid_long_and_short_axis_follow_the_shape():
    # radii (z, y, x) = (6, 7.5, 4.5) mm → axial long axis 15 mm (y), short 9 mm (x)
    vol, c, _ = make_nodule_volume(12.0, "solid", elong=(1.0, 1.25, 0.75), seed=4)
    m = analyze(vol, c).analysis.measurement
    assert m.long_axis_mm == pytest.approx(15.0, abs=1.2)  # blur rounds the tips a little
    assert m.short_axis_mm == pytest.approx(9.0, abs=0.8)
    assert m.mean_diameter_mm == pytest.approx(12.0, abs=0.8)
    (x0, y0, _), (x1, y1, _) = m.long_axis_lps
    assert abs(y1 - y0) > 2.5 * abs(x1 - x0)  # the long axis runs along y (within ~20 degrees)


@pytest.mark.parametrize("kind,d", [("ground-glass", 8.0), ("ground-glass", 20.0),
                                    ("part-solid", 12.0), ("part-solid", 20.0)])
def test_subsolid_types_and_sizes(kind, d):
    vol, c, true_v = make_nodule_volume(d, kind, seed=7)
    a = analyze(vol, c).analysis
    assert a.nodule_type is NoduleType(kind)
    assert abs(a.measurement.mean_diameter_mm - d) <= _tol(d)
    assert abs(a.measurement.volume_mm3 - true_v) / true_v <= 0.15
    if kind == "part-solid":  # core diameter = d * 0.5
        assert a.measurement.solid_component_mm == pytest.approx(d * 0.5, abs=max(1.0, 0.15 * d))
    else:
        assert a.measurement.solid_component_mm is None


def test_juxta_pleural_nodule_is_separated_from_the_chest_wall_and_flagged():
    vol, c, _ = make_nodule_volume(10.0, "solid", wall=True, seed=2)
    r = analyze(vol, c)
    a = r.analysis
    assert a.juxta_pleural
    assert abs(a.measurement.mean_diameter_mm - 10.0) <= 1.0
    assert r.mask.sum() * np.prod(vol.spacing_zyx) < 700  # not the wall (a sphere is 524 mm3)
    free = analyze(*make_nodule_volume(10.0, "solid", seed=2)[:2]).analysis
    assert not free.juxta_pleural


def test_attached_vessel_is_cut_off():
    vol, c, _ = make_nodule_volume(10.0, "solid", vessel=True, seed=5)
    m = analyze(vol, c).analysis.measurement
    assert m.long_axis_mm < 12.5  # the vessel runs through the whole 70 mm volume
    assert abs(m.mean_diameter_mm - 10.0) <= 1.0


def test_calcified_nodule_is_benign_lung_rads_1():
    vol, c, _ = make_nodule_volume(8.0, "solid", calcified=True, seed=1)
    a = analyze(vol, c).analysis
    assert a.calcified and a.lung_rads.value == "1"
    assert a.measurement.max_hu > 200
    assert not analyze(*make_nodule_volume(8.0, "solid", seed=1)[:2]).analysis.calcified


def test_mask_sits_on_the_scan_grid_where_the_nodule_is():
    vol, c, _ = make_nodule_volume(8.0, "solid", seed=3)
    r = analyze(vol, c)
    full = r.full_mask(vol.shape)
    assert full.shape == vol.shape and full.sum() == r.mask.sum()
    centroid = vol.index_to_world(np.argwhere(full).mean(axis=0))
    assert np.linalg.norm(centroid - np.asarray(c)) < 0.7
    assert vol.voxels[full].mean() > -300  # the mask covers dense voxels


def test_a_click_off_the_centre_of_a_small_nodule_still_measures_it():
    vol, c, _ = make_nodule_volume(5.0, "solid", seed=8)
    off = (c[0] + 1.0, c[1] - 0.6, c[2])  # 1.2 mm off-centre, inside the 2.5 mm radius
    m = analyze(vol, off).analysis.measurement
    assert abs(m.mean_diameter_mm - 5.0) <= 0.6
