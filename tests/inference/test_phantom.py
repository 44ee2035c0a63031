"""The phantom: geometry, anatomy where a chest CT has it, nodules with exact truth."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from inference.domain.nodule import NoduleType
from inference.phantom import (SMALL_SHAPE_ZYX, SMALL_SPACING_ZYX, Attachment, NoduleSpec,
                               PhantomError, demo_phantom, insert_nodule, make_phantom)


@pytest.fixture(scope="module")
def demo():
    return demo_phantom(SMALL_SHAPE_ZYX)


@pytest.fixture(scope="module")
def clean():
    """Noise-free small phantom with one nodule of each kind."""
    specs = [NoduleSpec(None, 10.0, NoduleType.SOLID),
             NoduleSpec(None, 12.0, NoduleType.GROUND_GLASS),
             NoduleSpec(None, 14.0, NoduleType.PART_SOLID, solid_fraction=0.5),
             NoduleSpec(None, 8.0, NoduleType.SOLID, Attachment.JUXTA_PLEURAL),
             NoduleSpec(None, 8.0, NoduleType.SOLID, Attachment.JUXTA_VASCULAR)]
    return make_phantom(3, SMALL_SHAPE_ZYX, SMALL_SPACING_ZYX, nodules=specs, noise_hu=0.0)


def test_geometry_is_axial_lps_with_right_at_low_x(demo):
    vol = demo.volume
    assert vol.voxels.dtype == np.int16 and vol.shape == SMALL_SHAPE_ZYX
    assert vol.is_axial and vol.spacing_zyx == pytest.approx(SMALL_SPACING_ZYX)
    assert np.allclose(vol.direction, np.eye(3))  # +x left, +y posterior, +z superior
    ox, oy, oz = vol.origin
    assert ox < -100 and oy < 0
    # the field is centred left-right
    lo, hi = vol.world_bounds()
    assert lo[0] == pytest.approx(-hi[0])


def test_seed_fixes_the_scan(demo):
    again = demo_phantom(SMALL_SHAPE_ZYX)
    assert np.array_equal(again.volume.voxels, demo.volume.voxels)
    other = make_phantom(1, SMALL_SHAPE_ZYX, SMALL_SPACING_ZYX)
    assert not np.array_equal(other.volume.voxels, demo.volume.voxels)


def test_anatomy_is_where_a_chest_ct_has_it(clean):
    v = clean.volume.voxels.astype(np.float32)
    nz, ny, nx = v.shape
    mid = v[nz // 2]
    # air outside the body at the corners, table under the back
    assert mid[0, 0] == pytest.approx(-1000, abs=5)
    # spine: the brightest bone on the midline is posterior (the sternum in front is thinner)
    col = mid[:, nx // 2]
    assert col.max() > 600 and np.argmax(col) > ny // 2
    # lungs: both sides, mostly around -850 HU, about 2 to 5 % of this small field
    lung = clean.lung_mask
    xs = np.nonzero(lung.any(axis=(0, 1)))[0]
    assert xs.min() < nx // 3 and xs.max() > 2 * nx // 3
    assert -880 < np.median(v[lung]) < -800
    # heart: soft tissue left of the midline (patient left = +x = high column) at its level
    low = v[int(nz * 0.3)]
    band = low[ny // 2 - 25: ny // 2 - 5] > -300
    right, left = band[:, nx // 2 - 35: nx // 2].sum(), band[:, nx // 2: nx // 2 + 35].sum()
    assert left > 1.3 * right
    # vessels: tissue-density voxels inside the lungs, but few
    frac_dense = float((v[lung] > -400).mean())
    assert 0.005 < frac_dense < 0.2


def test_noise_level_matches_request():
    noisy = make_phantom(5, SMALL_SHAPE_ZYX, SMALL_SPACING_ZYX, noise_hu=25.0).volume.voxels
    clean = make_phantom(5, SMALL_SHAPE_ZYX, SMALL_SPACING_ZYX, noise_hu=0.0).volume.voxels
    noise = (noisy.astype(np.float32) - clean)[clean > -900]  # not clipped at -1024 HU
    assert noise.std() == pytest.approx(25.0, rel=0.1) and abs(noise.mean()) < 1.0
    # correlated: neighbouring voxels are not independent in the full-resolution scan
    full = make_phantom(5, (20, 256, 256), (1.0, 0.7, 0.7), noise_hu=25.0).volume.voxels
    a = full[:, :40, :40].astype(np.float32) + 1000
    r = np.corrcoef(a[:, :, :-1].ravel(), a[:, :, 1:].ravel())[0, 1]
    assert r > 0.2


def test_nodule_truth_is_exact(clean):
    vol = clean.volume
    v = vol.voxels.astype(np.float32)
    assert [n.nodule_id for n in clean.nodules] == ["N1", "N2", "N3", "N4", "N5"]
    voxel = float(np.prod(vol.spacing_zyx))
    for n in clean.nodules:
        full = n.full_mask(vol.shape)
        assert n.volume_mm3 == pytest.approx(full.sum() * voxel)
        # centre inside the mask and inside the lung
        k = tuple(np.rint(vol.world_to_index(n.center)).astype(int))
        assert full[k] and clean.lung_mask[k]
        sphere = np.pi / 6 * n.diameter_mm**3
        lo = 0.3 if n.attachment is Attachment.JUXTA_PLEURAL else 0.6
        assert lo * sphere < n.volume_mm3 < 1.5 * sphere, n
    solid, ggo, ps, pleural, vascular = clean.nodules
    core = lambda n: v[ndimage.binary_erosion(n.full_mask(vol.shape))]  # noqa: E731
    assert np.median(core(solid)) == pytest.approx(30, abs=25)
    assert np.median(core(ggo)) == pytest.approx(-600, abs=60)
    assert ps.solid_diameter_mm == pytest.approx(7.0)
    vals = core(ps)
    assert (vals > -100).mean() > 0.05 and (vals < -450).mean() > 0.3
    assert solid.solid_diameter_mm is None and ggo.nodule_type is NoduleType.GROUND_GLASS


def test_juxta_pleural_touches_the_chest_wall_and_juxta_vascular_a_vessel(clean):
    vol = clean.volume
    v = vol.voxels
    _, _, _, pleural, vascular = clean.nodules
    m = pleural.full_mask(vol.shape)
    shell = ndimage.binary_dilation(m, iterations=2) & ~m
    # part of its rim lies outside the lungs, in soft tissue
    assert (shell & ~clean.lung_mask & (v > -200)).sum() > 3
    m = vascular.full_mask(vol.shape)
    shell = ndimage.binary_dilation(m, iterations=1) & ~m
    assert (shell & clean.lung_mask & (v > -300)).sum() > 2
    assert vascular.attachment is Attachment.JUXTA_VASCULAR


def test_demo_has_the_five_documented_nodules(demo):
    kinds = [(n.nodule_type, n.diameter_mm, n.attachment) for n in demo.nodules]
    assert kinds == [(NoduleType.SOLID, 8.0, Attachment.NONE),
                     (NoduleType.SOLID, 15.0, Attachment.NONE),
                     (NoduleType.PART_SOLID, 12.0, Attachment.NONE),
                     (NoduleType.GROUND_GLASS, 10.0, Attachment.NONE),
                     (NoduleType.SOLID, 6.0, Attachment.JUXTA_PLEURAL)]
    centres = np.array([n.center for n in demo.nodules])
    gaps = np.linalg.norm(centres[:, None] - centres[None], axis=-1) + np.eye(5) * 1e3
    assert gaps.min() > 10


def test_random_nodules_and_explicit_centres():
    base = make_phantom(7, SMALL_SHAPE_ZYX, SMALL_SPACING_ZYX, noise_hu=0.0)
    lung_pt = base.volume.index_to_world(np.argwhere(
        ndimage.binary_erosion(base.lung_mask, iterations=4))[0])
    spec = NoduleSpec(tuple(lung_pt), 6.0)
    ph = make_phantom(7, SMALL_SHAPE_ZYX, SMALL_SPACING_ZYX, nodules=[spec], n_random=3,
                      noise_hu=0.0)
    assert len(ph.nodules) == 4
    assert ph.nodules[0].center == pytest.approx(tuple(lung_pt))
    for n in ph.nodules[1:]:
        assert 3.0 <= n.diameter_mm <= 30.0


def test_insert_nodule_into_an_oblique_flipped_grid():
    """Works on any int16 array + LPS affine, e.g. a real scan with a flipped row axis."""
    vox = np.full((40, 60, 60), -850, np.int16)
    direction = np.array([[1, 0, 0], [0, -1, 0], [0, 0, 1]], float)
    from inference.imaging.volume import Volume
    affine = Volume.make_affine((0.8, 0.8, 1.25), (-20.0, 30.0, -100.0), direction)
    vol = Volume(vox.copy(), affine)
    centre = tuple(vol.index_to_world((20, 30, 25)))
    n = insert_nodule(vox, affine, NoduleSpec(centre, 12.0), np.random.default_rng(0))
    zz, yy, xx = np.nonzero(n.full_mask(vox.shape))
    assert np.mean(zz) == pytest.approx(20, abs=0.5) and np.mean(xx) == pytest.approx(25, abs=0.5)
    assert n.volume_mm3 == pytest.approx(np.pi / 6 * 12**3, rel=0.15)
    assert vox[20, 30, 25] > -100
    for d in (3.0, 30.0):
        m = insert_nodule(vox.copy(), affine, NoduleSpec(centre, d), np.random.default_rng(1))
        assert m.volume_mm3 == pytest.approx(np.pi / 6 * d**3, rel=0.5)


def test_bad_requests_raise_phantom_errors():
    with pytest.raises(PhantomError, match="3.0 to 30.0 mm"):
        NoduleSpec(None, 45.0)
    with pytest.raises(PhantomError, match="solid_fraction"):
        NoduleSpec(None, 10.0, NoduleType.PART_SOLID, solid_fraction=1.5)
    with pytest.raises(PhantomError, match="shape_zyx"):
        make_phantom(0, (4, 128, 128), SMALL_SPACING_ZYX)
    with pytest.raises(PhantomError, match="spacing_zyx"):
        make_phantom(0, SMALL_SHAPE_ZYX, (0.0, 1.0, 1.0))
    with pytest.raises(PhantomError, match="seed"):
        make_phantom(-1, SMALL_SHAPE_ZYX, SMALL_SPACING_ZYX)
    vox = np.zeros((20, 20, 20), np.int16)
    with pytest.raises(PhantomError, match="needs NoduleSpec.center"):
        insert_nodule(vox, np.eye(4), NoduleSpec(None, 5.0), np.random.default_rng(0))
    with pytest.raises(PhantomError, match="outside the volume"):
        insert_nodule(vox, np.eye(4), NoduleSpec((100.0, 0.0, 0.0), 5.0), np.random.default_rng(0))
    with pytest.raises(PhantomError, match="int16"):
        insert_nodule(vox.astype(np.float32), np.eye(4), NoduleSpec((5.0, 5.0, 5.0), 5.0),
                      np.random.default_rng(0))
    with pytest.raises(PhantomError, match="no room"):
        make_phantom(0, SMALL_SHAPE_ZYX, SMALL_SPACING_ZYX,
                     nodules=[NoduleSpec(None, 30.0)] * 12)


def test_insert_nodule_into_a_real_scan(lidc1):
    """Training use: plant a ground-glass and a juxta-pleural solid nodule into LIDC-IDRI-0001."""
    from inference.imaging import load
    from inference.imaging.lung_mask import lung_mask

    vol = load(lidc1)
    lung = lung_mask(vol)
    vox = vol.voxels.copy()
    step = np.array([1, 4, 4])  # distances on a coarse grid keep this test quick
    dist = ndimage.distance_transform_edt(lung[:, ::4, ::4],
                                          sampling=np.asarray(vol.spacing_zyx) * step)
    deep = tuple(np.array(np.unravel_index(np.argmax(dist), dist.shape)) * step)
    centre = tuple(vol.index_to_world(deep))
    rng = np.random.default_rng(4)
    ggo = insert_nodule(vox, vol.affine, NoduleSpec(centre, 12.0, NoduleType.GROUND_GLASS), rng,
                        lung=lung)
    m = ggo.full_mask(vol.shape)
    assert m[deep] and np.median(vox[m]) == pytest.approx(-600, abs=80)
    assert ggo.volume_mm3 == pytest.approx(np.pi / 6 * 12**3, rel=0.25)
    # juxta-pleural: a lung voxel ~4 mm from the wall; the truth mask stays on the lung side
    near = np.argwhere(lung[:, ::4, ::4] & (dist > 3.0) & (dist < 5.0)) * step
    near = near[lung[tuple(near.T)]]
    wall_pt = tuple(vol.index_to_world(near[len(near) // 2]))
    jp = insert_nodule(vox, vol.affine, NoduleSpec(wall_pt, 10.0, NoduleType.SOLID,
                                                   Attachment.JUXTA_PLEURAL), rng, lung=lung)
    jm = jp.full_mask(vol.shape)
    assert not (jm & ~lung).any()
    assert 0.2 * np.pi / 6 * 10**3 < jp.volume_mm3 < 0.95 * np.pi / 6 * 10**3
    assert np.median(vox[jm]) == pytest.approx(30, abs=60)
    k = tuple(np.rint(vol.world_to_index(jp.center)).astype(int))
    assert jm[k]  # the reported centre is that of the part inside the lung
