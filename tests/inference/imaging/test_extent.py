"""Too little of the chest to screen: one check, with the minimum extent in its message, and a
volume at that minimum still runs through the detector."""

from __future__ import annotations

import numpy as np
import pytest

from inference.imaging import ImagingError, SeriesInfo, TooLittleChest, Volume
from inference.imaging.extent import MIN_EXTENT_MM, MIN_VOXELS, check_screenable


def _volume(shape_zyx, spacing_zyx, source="/scans/thin.nii.gz"):
    vox = np.full(shape_zyx, -1000, np.int16)
    return Volume(vox, Volume.make_affine(tuple(reversed(spacing_zyx))), SeriesInfo(source=source))


@pytest.mark.parametrize("shape,spacing,axes", [
    ((1, 256, 256), (1.25, 0.7, 0.7), "z"),     # one slice
    ((2, 256, 256), (5.0, 0.7, 0.7), "z"),      # two thick slices: 10 mm
    ((2, 256, 256), (20.0, 0.7, 0.7), "z"),     # two slices, 40 mm: too few samples
    ((200, 256, 1), (1.0, 0.7, 0.7), "x"),      # one voxel thick
    ((23, 40, 256), (1.25, 0.7, 0.7), "z, y"),  # 28.75 × 28 mm
])
def test_too_little_is_refused_with_the_minimum(shape, spacing, axes):
    with pytest.raises(TooLittleChest) as info:
        check_screenable(_volume(shape, spacing))
    text = str(info.value)
    assert isinstance(info.value, ImagingError)
    assert text.startswith("/scans/thin.nii.gz: too little of the chest to screen")
    assert f"{shape[0]} × {shape[1]} × {shape[2]} voxels" in text
    assert f"too small along {axes};" in text
    assert f"at least {MIN_VOXELS} voxels and {MIN_EXTENT_MM:g} mm along every axis" in text
    assert "whole chest CT series" in info.value.fix


def test_the_subject_given_wins_over_the_source():
    with pytest.raises(TooLittleChest, match="^series 1.2.3: too little"):
        check_screenable(_volume((1, 64, 64), (1.0, 1.0, 1.0)), "series 1.2.3")


@pytest.mark.parametrize("shape,spacing", [((24, 43, 43), (1.25, 0.7, 0.7)), ((3, 30, 30), (10.0, 1.0, 1.0))],
                         ids=["30mm-slab", "three-10mm-slices"])
def test_the_minimum_itself_is_screenable(shape, spacing):
    check_screenable(_volume(shape, spacing))  # raises if the boundary were off by one


@pytest.mark.parametrize("shape,spacing", [((24, 43, 43), (1.25, 0.7, 0.7)), ((3, 30, 30), (10.0, 1.0, 1.0))],
                         ids=["30mm-slab", "three-10mm-slices"])
def test_the_detector_runs_at_the_minimum(shape, spacing):
    """The minimum is above what the candidate generator needs (8 mm): detection at it returns."""
    from inference.detection.detector import load_detector

    rng = np.random.default_rng(0)
    vox = (rng.normal(-850, 20, shape)).astype(np.int16)
    vox[:, :, :2] = vox[:, :, -2:] = 40  # chest wall on two sides
    vol = Volume(vox, Volume.make_affine(tuple(reversed(spacing))), SeriesInfo(source="slab"))
    check_screenable(vol)
    findings = load_detector("classical", "cpu").detect(vol)
    assert isinstance(findings, list)
