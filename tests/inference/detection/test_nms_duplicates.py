"""Non-maximum suppression: one candidate per nodule, also for large nodules whose strongest
responses sit on small scales (surface bumps, texture) rather than at the nodule's own scale."""

from __future__ import annotations

import numpy as np
import pytest

from inference.detection.candidates import Candidate, nms
from inference.detection.detector import load_detector
from inference.phantom import NoduleSpec, NoduleType, make_phantom


def test_weaker_large_blob_extends_the_suppression_radius() -> None:
    edge = Candidate((0.0, 0.0, 0.0), 1.5, 0.30)      # strong small-scale bump, radius 2.6 mm
    body = Candidate((3.0, 0.0, 0.0), 5.0, 0.10)      # the nodule at its own scale, radius 8.7 mm
    other_edge = Candidate((6.0, 0.0, 0.0), 1.5, 0.25)  # a second bump 6 mm from the first
    far = Candidate((30.0, 0.0, 0.0), 1.0, 0.05)
    assert nms([body, other_edge, far, edge], 10) == [edge, far]


def test_large_blob_without_support_does_not_merge_neighbours() -> None:
    a = Candidate((0.0, 0.0, 0.0), 1.0, 0.30)
    b = Candidate((6.0, 0.0, 0.0), 1.0, 0.25)
    faint = Candidate((3.0, 0.0, 0.0), 5.0, 0.01)  # under 10 % of a's response: no support
    assert nms([a, b, faint], 10) == [a, b]


@pytest.mark.parametrize("diameter, kind", [(18.0, NoduleType.SOLID),
                                            (16.0, NoduleType.PART_SOLID)])
def test_one_candidate_per_large_phantom_nodule(diameter, kind) -> None:
    p = make_phantom(3, shape_zyx=(128, 128, 128), spacing_zyx=(1.0, 1.0, 1.0),
                     nodules=[NoduleSpec(None, diameter, kind)])
    (truth,) = p.nodules
    found = load_detector("classical", device="cpu").candidates(p.volume)
    d = np.linalg.norm(np.array([f.center for f in found]) - truth.center, axis=1)
    inside = np.nonzero(d <= truth.diameter_mm / 2)[0]
    assert len(inside) == 1, [(int(i), round(float(d[i]), 1)) for i in inside]
