"""The classical baseline (Hessian dot enhancement) behind the Detector API, on phantoms and LIDC."""

from __future__ import annotations

import numpy as np
import pytest

from inference.detection.candidates import _eig_sym3, nms, Candidate
from inference.detection.detector import load_detector
from inference.domain.progress import Cancelled
from inference.phantom import NoduleSpec, make_phantom
from inference.training.scans import read_scan

LIDC1_NODULE = np.array([56.21, 86.34, -115.87])


@pytest.fixture(scope="module")
def phantom():
    return make_phantom(11, shape_zyx=(128, 128, 128), spacing_zyx=(1.0, 1.0, 1.0),
                        nodules=[NoduleSpec(None, 10.0)])


def test_closed_form_eigenvalues_match_numpy() -> None:
    rng = np.random.default_rng(0)
    m = rng.normal(size=(200, 3, 3))
    m = m + m.transpose(0, 2, 1)
    got = np.stack(_eig_sym3(m[:, 0, 0], m[:, 1, 1], m[:, 2, 2], m[:, 0, 1], m[:, 0, 2], m[:, 1, 2]), -1)
    assert np.allclose(np.sort(got, 1), np.linalg.eigvalsh(m), atol=1e-6)


def test_nms_keeps_the_strongest_per_blob() -> None:
    a = Candidate((0, 0, 0), 3.3, 0.5)  # radius 5.7 mm
    b = Candidate((3, 0, 0), 1.0, 0.4)  # inside a's radius: dropped
    c = Candidate((20, 0, 0), 1.0, 0.1)
    assert nms([b, c, a], 10) == [a, c]
    assert nms([a, b, c], 1) == [a]


def test_phantom_nodule_is_the_top_finding_with_progress(phantom) -> None:
    det = load_detector("classical", device="cpu")
    seen = []
    found = det.candidates(phantom.volume, progress=lambda f, m: seen.append(f))
    (truth,) = phantom.nodules
    top = found[0]
    assert np.linalg.norm(np.asarray(top.center) - truth.center) <= truth.diameter_mm / 2
    assert [f.score for f in found] == sorted((f.score for f in found), reverse=True)
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
    assert top.box.contains(top.center) and 3.0 <= top.diameter_mm <= 40.0
    above = det.detect(phantom.volume)
    assert all(f.score >= det.threshold for f in above)
    assert [f.finding_id for f in above] == [f"F{i + 1:03d}" for i in range(len(above))]


def test_cancel_raises(phantom) -> None:
    det = load_detector("classical", device="cpu")
    with pytest.raises(Cancelled):
        det.detect(phantom.volume, cancelled=lambda: True)


def test_lidc1_reference_nodule_ranks_first(lidc1) -> None:
    det = load_detector("classical", device="cpu")
    top = det.detect(read_scan(lidc1))[0]
    assert np.linalg.norm(np.asarray(top.center) - LIDC1_NODULE) <= 23.35 / 2
