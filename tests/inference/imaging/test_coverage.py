"""Lungs cut off at the top or the bottom of a scan are said (real LIDC-IDRI-0001, cut here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inference.imaging import load
from inference.imaging.coverage import (CUT_FRACTION, ONE_SIDE_FRACTION, end_fractions, lungs_cut_off, one_lung_only,
                                        smaller_side_fraction)
from inference.imaging.lung_mask import lung_mask
from inference.imaging.volume import Volume


@pytest.fixture(scope="module")
def chest(lidc1: Path) -> Volume:
    return load(lidc1)


def _cut(volume: Volume, top_mm: float, bottom_mm: float) -> Volume:
    """The scan without its top / bottom millimetres (slice axis pointing up, as the loader gives)."""
    assert volume.direction[2, 2] > 0
    sz = volume.spacing_zyx[0]
    a, b = int(round(bottom_mm / sz)), volume.shape[0] - int(round(top_mm / sz))
    affine = volume.affine.copy()
    affine[:3, 3] = volume.index_to_world((a, 0, 0))
    return volume.with_voxels(np.ascontiguousarray(volume.voxels[a:b]), affine)


def _flipped(volume: Volume) -> Volume:
    """The same scan with its slices stored top first (slice axis pointing down)."""
    affine = volume.affine.copy()
    affine[:3, 2] = -affine[:3, 2]
    affine[:3, 3] = volume.index_to_world((volume.shape[0] - 1, 0, 0))
    return volume.with_voxels(np.ascontiguousarray(volume.voxels[::-1]), affine)


def test_a_whole_screening_chest_is_not_warned(chest: Volume) -> None:
    assert end_fractions(chest, lung_mask(chest)) == (0.0, 0.0)
    assert lungs_cut_off(chest, lung_mask(chest)) is None


@pytest.mark.parametrize("flip", [False, True], ids=["slices-up", "slices-down"])
def test_apices_cut_off_are_said_at_the_top_whichever_way_the_slices_run(chest: Volume, flip: bool) -> None:
    cut = _cut(chest, 40.0, 0.0)
    if flip:
        cut = _flipped(cut)
    warning = lungs_cut_off(cut, lung_mask(cut))
    assert warning is not None and warning.startswith("the lungs are cut off at the top (the apices; ")
    assert "bottom" not in warning and "nodules there are not searched" in warning


def test_bases_cut_off_are_said_at_the_bottom(chest: Volume) -> None:
    cut = _cut(chest, 0.0, 80.0)
    first, last = end_fractions(cut, lung_mask(cut))
    assert first >= CUT_FRACTION and last == 0.0
    warning = lungs_cut_off(cut, lung_mask(cut))
    assert warning is not None and warning.startswith("the lungs are cut off at the bottom (the bases; ")


def test_a_cut_that_stays_below_the_bases_is_not_warned(chest: Volume) -> None:
    cut = _cut(chest, 0.0, 40.0)  # LIDC-IDRI-0001 has about 50 mm of abdomen below its bases
    assert lungs_cut_off(cut, lung_mask(cut)) is None


def test_a_mask_of_another_grid_is_refused(chest: Volume) -> None:
    with pytest.raises(ValueError, match="does not match"):
        end_fractions(chest, np.zeros((3, 3, 3), bool))


def _one_lung(volume: Volume) -> Volume:
    """The scan with the lung in its low columns filled with soft tissue (40 HU)."""
    mask = lung_mask(volume)
    cols = np.nonzero(mask.any(axis=(0, 1)))[0]
    fill = mask.copy()
    fill[:, :, (cols[0] + cols[-1]) // 2:] = False
    voxels = np.array(volume.voxels)
    voxels[fill] = 40
    return volume.with_voxels(voxels)


def _mirrored_columns(volume: Volume) -> Volume:
    """The same scan with its columns stored the other way round (column axis pointing right)."""
    affine = volume.affine.copy()
    affine[:3, 0] = -affine[:3, 0]
    affine[:3, 3] = volume.index_to_world((0, 0, volume.shape[2] - 1))
    return volume.with_voxels(np.ascontiguousarray(volume.voxels[:, :, ::-1]), affine)


def test_both_lungs_of_a_whole_chest_are_not_warned(chest: Volume) -> None:
    share, _ = smaller_side_fraction(chest, lung_mask(chest))
    assert 0.4 < share <= 0.5
    assert one_lung_only(chest, lung_mask(chest)) is None


@pytest.mark.parametrize("mirror", [False, True], ids=["columns-left", "columns-right"])
def test_one_lung_alone_is_said_with_its_side(chest: Volume, mirror: bool) -> None:
    assert chest.direction[0, 0] > 0  # low columns are the patient's right
    one = _one_lung(chest)  # the right lung filled
    if mirror:
        one = _mirrored_columns(one)
    mask = lung_mask(one)
    share, left_missing = smaller_side_fraction(one, mask)
    assert share < ONE_SIDE_FRACTION and not left_missing
    warning = one_lung_only(one, mask)
    assert warning is not None and warning.startswith("only the left lung found (")
    assert "the right lung lies outside the field of view or holds no air" in warning
