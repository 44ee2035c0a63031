"""Lung mask on the phantom (against its true lungs) and on real LIDC-IDRI scans."""

from __future__ import annotations

import numpy as np
import pytest

from inference.imaging import load
from inference.imaging.lung_mask import LungMaskError, lung_mask, split_lungs
from inference.imaging.volume import Volume
from inference.phantom import (SMALL_SHAPE_ZYX, SMALL_SPACING_ZYX, Attachment, NoduleSpec,
                               NoduleType, make_phantom)

LUNA_0001 = (56.21, 86.34, -115.87)  # LUNA16 reference nodule of LIDC-IDRI-0001 (23 mm, solid)
GGO_0002 = (59.8, 71.5, -104.1)  # ground-glass nodule of LIDC-IDRI-0002 (2 of 4 readers)


def _litres(mask: np.ndarray, vol: Volume) -> float:
    return float(mask.sum() * np.prod(vol.spacing_zyx) / 1e6)


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * float((a & b).sum()) / float(a.sum() + b.sum())


@pytest.fixture(scope="module")
def phantom():
    specs = [NoduleSpec(None, 12.0, NoduleType.SOLID, Attachment.JUXTA_PLEURAL),
             NoduleSpec(None, 10.0, NoduleType.GROUND_GLASS),
             NoduleSpec(None, 14.0, NoduleType.SOLID),
             NoduleSpec(None, 8.0, NoduleType.SOLID, Attachment.JUXTA_VASCULAR)]
    return make_phantom(11, (120, 256, 256), (1.5, 1.0, 1.0), nodules=specs)


def test_phantom_mask_matches_the_true_lungs(phantom):
    vol = phantom.volume
    m = lung_mask(vol)
    assert m.shape == vol.shape and m.dtype == bool
    assert _dice(m, phantom.lung_mask) > 0.9
    for n in phantom.nodules:  # every nodule centre, the juxta-pleural one included, is inside
        assert m[tuple(np.rint(vol.world_to_index(n.center)).astype(int))], n.attachment
    # the trachea (air on the midline in the top slices) is not lung
    top = vol.voxels[-10:]
    mid = vol.shape[2] // 2
    trachea = np.zeros(vol.shape, bool)
    trachea[-10:, :, mid - 5: mid + 6] = top[:, :, mid - 5: mid + 6] < -900
    assert trachea.sum() > 50 and (m & trachea).sum() < 0.05 * trachea.sum()


def test_small_phantom_dice():
    ph = make_phantom(2, SMALL_SHAPE_ZYX, SMALL_SPACING_ZYX)
    assert _dice(lung_mask(ph.volume), ph.lung_mask) > 0.9


def test_split_lungs_by_patient_side(phantom):
    vol = phantom.volume
    m = lung_mask(vol)
    left, right = split_lungs(m, vol)
    assert not (left & right).any() and np.array_equal(left | right, m)
    assert vol.index_to_world(np.argwhere(left).mean(axis=0))[0] > 20  # +x = patient left
    assert vol.index_to_world(np.argwhere(right).mean(axis=0))[0] < -20
    assert 0.3 < left.sum() / m.sum() < 0.7
    # the same scan with its columns stored right-to-left: sides follow the affine, not the index
    aff = vol.affine.copy()
    aff[:3, 0] *= -1
    aff[:3, 3] = vol.index_to_world((0, 0, vol.shape[2] - 1))
    flipped = Volume(np.ascontiguousarray(vol.voxels[:, :, ::-1]), aff)
    fl, fr = split_lungs(m[:, :, ::-1], flipped)
    assert (fl[:, :, ::-1] & left).sum() > 0.98 * left.sum()
    assert (fr[:, :, ::-1] & right).sum() > 0.98 * right.sum()
    # one connected region (the lungs touching) is cut between the two lungs
    joined = m.copy()
    joined[:, vol.shape[1] // 2 - 3: vol.shape[1] // 2 + 3, :] |= m.any(axis=1)[:, None, :]
    joined[:, vol.shape[1] // 2, :] = True
    jl, jr = split_lungs(joined, vol)
    assert (jl & left).sum() > 0.9 * left.sum() and (jr & right).sum() > 0.9 * right.sum()


def test_border_air_is_cleared_slice_by_slice():
    """An airway reaching the top of the field must not take the lungs with it."""
    z, y, x = np.mgrid[0:40, 0:96, 0:96].astype(np.float32)
    vox = np.full((40, 96, 96), -1000, np.int16)
    vox[((y - 48) / 40) ** 2 + ((x - 48) / 44) ** 2 < 1] = 40  # body
    for cx in (28, 68):
        vox[(((y - 48) / 22) ** 2 + ((x - cx) / 14) ** 2 < 1) & (z > 4) & (z < 34)] = -850
    vox[((y - 48) ** 2 + (x - 48) ** 2 < 9) & (z >= 20)] = -1000  # trachea to the top slice
    for cx in (28, 68):  # bronchi joining it to both lungs
        lo, hi = sorted((48, cx))
        vox[20:23, 46:50, lo:hi] = -1000
    vol = Volume(vox, Volume.make_affine((2.0, 2.0, 2.0), (-95.0, -95.0, 0.0)))
    m = lung_mask(vol)
    lung_true = vox == -850
    assert _dice(m, lung_true) > 0.85
    assert not m[30:, 47:50, 47:50].any()  # trachea removed


def test_not_hounsfield_is_refused():
    vol = Volume(np.zeros((8, 16, 16), np.float32), np.eye(4))
    with pytest.raises(LungMaskError, match="int16 Hounsfield"):
        lung_mask(vol)
    empty = Volume(np.full((20, 32, 32), 40, np.int16), np.eye(4))  # no air inside: no lungs
    assert not lung_mask(empty).any()


def test_real_scan_lidc_0001(lidc1):
    vol = load(lidc1)
    m = lung_mask(vol)
    assert 3.0 < _litres(m, vol) < 8.0
    assert m[tuple(np.rint(vol.world_to_index(LUNA_0001)).astype(int))]
    left, right = split_lungs(m, vol)
    assert 1.0 < _litres(left, vol) < 4.5 and 1.0 < _litres(right, vol) < 4.5
    # the LUNA16 nodule sits in the left lung (+x)
    assert left[tuple(np.rint(vol.world_to_index(LUNA_0001)).astype(int))]


def test_real_scan_lidc_0002(lidc2):
    vol = load(lidc2)
    m = lung_mask(vol)
    assert 3.0 < _litres(m, vol) < 8.0
    assert m[tuple(np.rint(vol.world_to_index(GGO_0002)).astype(int))]


def test_slices_stored_top_down_give_the_same_mask():
    ph = make_phantom(2, SMALL_SHAPE_ZYX, SMALL_SPACING_ZYX)
    vol = ph.volume
    aff = vol.affine.copy()
    aff[:3, 2] *= -1
    aff[:3, 3] = vol.index_to_world((vol.shape[0] - 1, 0, 0))
    down = Volume(np.ascontiguousarray(vol.voxels[::-1]), aff)
    assert np.array_equal(lung_mask(down)[::-1], lung_mask(vol))


def test_odd_shapes_and_spacings():
    ph = make_phantom(4, (45, 100, 150), (2.5, 1.6, 1.6))
    m = lung_mask(ph.volume)
    assert m.shape == (45, 100, 150) and _dice(m, ph.lung_mask) > 0.9


def test_a_scan_without_lungs_gives_an_empty_mask(example_nifti):
    """The NIfTI example is an abdomen: its bowel gas is not lung."""
    vol = load(example_nifti)
    assert _litres(lung_mask(vol), vol) < 0.05
