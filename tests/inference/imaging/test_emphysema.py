"""%LAA-950 on a phantom with a known emphysema fraction, and on the real LIDC scans."""

from __future__ import annotations

import numpy as np
import pytest

from inference.imaging.emphysema import EMPHYSEMA_PRESENT_PERCENT, laa_percent
from inference.imaging.errors import ImagingError
from inference.imaging.lung_mask import lung_mask
from inference.phantom import SMALL_SHAPE_ZYX, SMALL_SPACING_ZYX, make_phantom


@pytest.fixture(scope="module")
def phantom_and_lung():
    ph = make_phantom(seed=3, shape_zyx=SMALL_SHAPE_ZYX, spacing_zyx=SMALL_SPACING_ZYX)
    return ph.volume, lung_mask(ph.volume)


def test_known_fraction_of_lung_set_to_minus_980_is_measured(phantom_and_lung):
    volume, lung = phantom_and_lung
    base = laa_percent(volume, lung)
    assert base.percent < 0.5  # phantom lung is -860 HU with 25 HU noise: almost nothing below -950
    idx = np.flatnonzero(lung.ravel() & (volume.voxels.ravel() >= -950))
    rng = np.random.default_rng(7)
    chosen = rng.choice(idx, size=int(round(0.12 * lung.sum())), replace=False)
    vox = volume.voxels.copy().ravel()
    vox[chosen] = -980
    emph = volume.with_voxels(vox.reshape(volume.shape))
    m = laa_percent(emph, lung)
    expected = 100.0 * (base.low_voxels + chosen.size) / lung.sum()
    assert m.low_voxels == base.low_voxels + chosen.size
    assert m.percent == pytest.approx(expected, abs=1e-9)
    assert m.present and not base.present and EMPHYSEMA_PRESENT_PERCENT == 5.0
    # the lung mask the function computes itself (the default) gives the same answer within 1 point
    assert laa_percent(emph).percent == pytest.approx(expected, abs=1.0)


def test_mask_must_match_and_hold_lungs(phantom_and_lung):
    volume, lung = phantom_and_lung
    with pytest.raises(ValueError, match="shape"):
        laa_percent(volume, lung[:-1])
    with pytest.raises(ImagingError, match="no lungs"):
        laa_percent(volume, np.zeros_like(lung))
