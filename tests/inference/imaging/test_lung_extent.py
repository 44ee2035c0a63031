"""How much aerated lung a scan holds: none (a head) is refused with ``NoLungFound``, a slab is
screened with a warning, a whole chest passes without one; the bounds are exact."""

from __future__ import annotations

import re

import numpy as np
import pytest
from lung_scans import chest, head_ct, slab

from inference.imaging import ImagingError, NoLungFound, SeriesInfo, Volume
from inference.imaging.extent import MIN_LUNG_ML, PARTIAL_LUNG_ML, check_lungs, lung_volume_ml
from inference.imaging.lung_mask import lung_mask


@pytest.fixture(scope="module")
def whole() -> Volume:
    return chest()


def test_a_head_has_no_lung_and_is_refused_naming_the_scan_and_the_fix():
    head = head_ct("/scans/head.nii.gz")
    mask = lung_mask(head)
    assert lung_volume_ml(mask, head) == 0.0  # the sinuses are air, but not lung
    with pytest.raises(NoLungFound) as info:
        check_lungs(head, mask)
    assert isinstance(info.value, ImagingError)
    assert str(info.value).startswith("/scans/head.nii.gz: no aerated lung found: the lung mask holds 0 mL, "
                                      f"less than the {MIN_LUNG_ML:g} mL needed to screen (a screening chest "
                                      "CT holds about 3,000–6,000 mL)")
    assert info.value.fix.startswith("Open the chest CT series of this study")
    with pytest.raises(NoLungFound, match="^series 1.2.3: no aerated lung"):
        check_lungs(head, mask, "series 1.2.3")  # the subject given wins over the source


def test_a_whole_chest_passes_and_a_slab_of_it_warns_with_its_volume(whole):
    mask = lung_mask(whole)
    assert lung_volume_ml(mask, whole) > 2000.0
    assert check_lungs(whole, mask) is None

    part = slab(whole, 60.0)
    part_mask = lung_mask(part)
    ml = lung_volume_ml(part_mask, part)
    assert MIN_LUNG_ML < ml < PARTIAL_LUNG_ML
    assert check_lungs(part, part_mask) == (
        f"only {ml:.0f} mL of aerated lung found; a screening chest CT holds about 3,000–6,000 mL: "
        "part of the lungs may lie outside the scan and nodules there are not searched")


@pytest.mark.parametrize("voxels,refused,warned", [
    (99, True, True), (100, False, True), (1499, False, True), (1500, False, False)])
def test_the_bounds_are_exact(voxels, refused, warned):
    """1 cm voxels: one voxel is one mL."""
    vol = Volume(np.zeros((20, 20, 20), np.int16), Volume.make_affine((10.0, 10.0, 10.0)),
                 SeriesInfo(source="grid"))
    mask = np.zeros(vol.shape, bool)
    mask.ravel()[:voxels] = True
    assert lung_volume_ml(mask, vol) == pytest.approx(voxels)
    if refused:
        with pytest.raises(NoLungFound, match=f"holds {voxels} mL"):
            check_lungs(vol, mask)
    else:
        assert (check_lungs(vol, mask) is not None) is warned


def test_a_mask_of_another_grid_is_a_programming_error():
    vol = Volume(np.zeros((4, 4, 4), np.int16), np.eye(4))
    with pytest.raises(ValueError, match="does not match the volume"):
        lung_volume_ml(np.zeros((4, 4, 5), bool), vol)


def test_real_scans_a_screening_chest_passes_and_an_abdomen_is_refused(lidc1, example_nifti):
    from inference.imaging import load

    chest_ct = load(lidc1)
    mask = lung_mask(chest_ct)
    assert 3000.0 < lung_volume_ml(mask, chest_ct) < 6000.0
    assert check_lungs(chest_ct, mask) is None
    abdomen = load(example_nifti)
    with pytest.raises(NoLungFound, match="^" + re.escape(f"{abdomen.info.source}: no aerated lung found")):
        check_lungs(abdomen, lung_mask(abdomen))
