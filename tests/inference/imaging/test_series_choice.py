"""The series chooser: most likely axial CT series, with the reason, from candidate lists."""

from __future__ import annotations

import pytest

from inference.imaging import NoDicomFound, Orientation, SeriesCandidate, choose_series


def cand(uid, n=200, thick=1.25, modality="CT", orientation=Orientation.AXIAL, scout=False):
    return SeriesCandidate(uid=uid, description=uid, slice_count=n, thickness_mm=thick, modality=modality,
                           orientation=orientation, files=tuple(f"{uid}/{k}.dcm" for k in range(n)),
                           is_localizer=scout)


def test_only_series():
    best, reason = choose_series([cand("a")])
    assert best.uid == "a" and reason.startswith("the only series")


def test_ct_beats_other_modality():
    best, reason = choose_series([cand("pet", n=400, modality="PT"), cand("ct")])
    assert best.uid == "ct" and "CT series" in reason


def test_axial_beats_coronal_reformat():
    best, reason = choose_series([cand("cor", n=400, orientation=Orientation.CORONAL), cand("ax")])
    assert best.uid == "ax" and "axial" in reason


def test_localizer_never_chosen_over_images():
    best, reason = choose_series([cand("scout", n=2, scout=True), cand("ax", n=30)])
    assert best.uid == "ax" and "localizer" in reason


def test_thin_slices_preferred_then_more_slices():
    best, _ = choose_series([cand("thick", n=80, thick=5.0), cand("thin", n=300, thick=1.0)])
    assert best.uid == "thin"
    best, reason = choose_series([cand("short", n=100, thick=1.0), cand("long", n=300, thick=1.0)])
    assert best.uid == "long" and "most slices" in reason


def test_empty_list():
    with pytest.raises(NoDicomFound):
        choose_series([])


@pytest.mark.parametrize("iop,expected", [
    ((1, 0, 0, 0, 1, 0), Orientation.AXIAL),
    ((1, 0, 0, 0, 0, -1), Orientation.CORONAL),
    ((0, 1, 0, 0, 0, -1), Orientation.SAGITTAL),
    ((1, 0, 0, 0, 0.7071, 0.7071), Orientation.OBLIQUE),
    (None, Orientation.UNKNOWN),
])
def test_orientation_of(iop, expected):
    assert Orientation.of(iop) is expected
