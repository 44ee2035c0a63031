"""Candidate channels: the ground-glass channel (clipped at -300 HU) and the pleural channel."""

from __future__ import annotations

import numpy as np
import pytest

from inference.detection.candidates import generate_candidates
from inference.detection.lungs import lung_region
from inference.phantom import Attachment, NoduleSpec, NoduleType, make_phantom


def _rank(cands, truth) -> int:
    d = np.linalg.norm(np.array([c.center for c in cands]) - truth.center, axis=1)
    hits = np.nonzero(d <= truth.diameter_mm / 2)[0]
    return int(hits[0]) if len(hits) else 10 ** 6


@pytest.fixture(scope="module")
def ggo():
    return make_phantom(5, shape_zyx=(128, 128, 128), spacing_zyx=(1.0, 1.0, 1.0),
                        nodules=[NoduleSpec(None, 10.0, NoduleType.GROUND_GLASS)])


def test_ground_glass_channel_ranks_a_ground_glass_nodule_higher(ggo) -> None:
    (truth,) = ggo.nodules
    region = lung_region(ggo.volume)
    plain = generate_candidates(ggo.volume, region=region, channels=("plain",))
    both = generate_candidates(ggo.volume, region=region, channels=("plain", "ground-glass"))
    alone = generate_candidates(ggo.volume, region=region, channels=("ground-glass",))
    assert _rank(alone, truth) < 5
    assert _rank(both, truth) < _rank(plain, truth)


def test_pleural_channel_finds_a_juxta_pleural_nodule() -> None:
    p = make_phantom(8, shape_zyx=(128, 128, 128), spacing_zyx=(1.0, 1.0, 1.0),
                     nodules=[NoduleSpec(None, 8.0, NoduleType.SOLID, Attachment.JUXTA_PLEURAL)])
    (truth,) = p.nodules
    cands = generate_candidates(p.volume, channels=("pleural",))
    assert _rank(cands, truth) < 20


def test_unknown_channel_is_named(ggo) -> None:
    with pytest.raises(ValueError, match="use one or more of"):
        generate_candidates(ggo.volume, channels=("bone",))
