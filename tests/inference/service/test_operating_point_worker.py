"""Detection at a reader's operating point (inference.service.operating.detect_at) with the real
candidate CNN on a phantom, and through the real worker process."""

from __future__ import annotations

import pytest

from inference.phantom import NoduleSpec, make_phantom
from inference.service.operating import MAX_BELOW, detect_at
from inference.service.protocol import DetectRequest, ScanPath


@pytest.fixture(scope="module")
def scan():
    return make_phantom(5, shape_zyx=(96, 128, 128), spacing_zyx=(1.0, 1.0, 1.0),
                        nodules=[NoduleSpec(None, 9.0), NoduleSpec(None, 6.0)]).volume


@pytest.fixture(scope="module")
def detector():
    import torch

    from inference.detection.detector import load_detector

    torch.set_num_threads(2)
    det = load_detector("nodulelens-cnn-v2", "cpu")
    real, memo = det.candidates, {}

    def candidates(volume, progress=None, cancelled=None):  # the real scoring, once per scan
        if id(volume) not in memo:
            memo[id(volume)] = real(volume, progress, cancelled)
        return list(memo[id(volume)])

    det.candidates = candidates  # detect() calls self.candidates too
    return det


def test_default_is_the_cards_point_and_the_same_findings_as_detect(detector, scan) -> None:
    found, point = detect_at(detector, scan, None, None)
    assert point == detector.threshold == 0.8
    plain = detector.detect(scan)
    assert [(f.finding_id, f.center, f.score) for f in found] == [(f.finding_id, f.center, f.score) for f in plain]


def test_a_floor_keeps_candidates_below_the_point_numbered_after_those_above(detector, scan) -> None:
    above, _ = detect_at(detector, scan, None, None)
    found, point = detect_at(detector, scan, None, 0.5)
    assert point == 0.8
    assert [f.finding_id for f in found[:len(above)]] == [f.finding_id for f in above]
    below = found[len(above):]
    assert below, "no candidate between 0.5 and 0.8 on this phantom"
    assert all(0.5 <= f.score < 0.8 for f in below) and len(below) <= MAX_BELOW
    assert [f.finding_id for f in found] == [f"F{i + 1:03d}" for i in range(len(found))]
    scores = [f.score for f in found]
    assert scores == sorted(scores, reverse=True)


def test_a_lower_point_without_floor_gives_more_findings(detector, scan) -> None:
    at_card, _ = detect_at(detector, scan, None, None)
    lower, point = detect_at(detector, scan, 0.5, None)
    assert point == 0.5 and len(lower) > len(at_card)
    assert all(f.score >= 0.5 for f in lower)


def test_request_refuses_a_point_outside_0_1() -> None:
    with pytest.raises(ValueError, match="threshold must be a score in 0..1"):
        DetectRequest(1, ScanPath("/scan"), saliency=False, threshold=1.5)
    with pytest.raises(ValueError, match="floor must be a score in 0..1"):
        DetectRequest(1, ScanPath("/scan"), saliency=False, floor=-0.1)
