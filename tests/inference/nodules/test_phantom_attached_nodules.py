"""Juxta-pleural and juxta-vascular phantom nodules (``inference.phantom``, exact truth masks):
the wall and the vessels are cut off without eating into the nodule."""

import pytest

from inference.nodules import analyze
from inference.phantom import Attachment, NoduleSpec, NoduleType, make_phantom

JP, JV = Attachment.JUXTA_PLEURAL, Attachment.JUXTA_VASCULAR


@pytest.fixture(scope="module")
def phantom():
    specs = [NoduleSpec(None, d, NoduleType.SOLID, a) for d, a in
             ((12.0, JP), (15.0, JP), (8.0, JV), (12.0, JV))]
    return make_phantom(seed=124, shape_zyx=(160, 320, 320), spacing_zyx=(1.25, 0.7, 0.7),
                        nodules=specs)


def _dice(a, b):
    return 2.0 * (a & b).sum() / (a.sum() + b.sum())


@pytest.mark.parametrize("i", range(4))
def test_attached_nodule_volume_and_overlap_with_the_truth(phantom, i):
    n = phantom.nodules[i]
    r = analyze(phantom.volume, n.center, lung_mask=phantom.lung_mask)
    m = r.analysis.measurement
    truth = n.full_mask(phantom.volume.shape)
    ours = r.full_mask(phantom.volume.shape)
    assert abs(m.volume_mm3 - n.volume_mm3) / n.volume_mm3 <= 0.15, (n, m.volume_mm3)
    assert _dice(ours, truth) >= 0.85, (n.attachment, _dice(ours, truth))
    if n.attachment is JP:
        assert r.analysis.juxta_pleural
        # the wall side is not shaved off: few truth voxels next to the wall are missed
        assert (truth & ~ours).sum() <= 0.1 * truth.sum()
    else:
        # the vessel tree reaches the mediastinum: that is no pleural contact of the nodule
        assert not r.analysis.juxta_pleural
        assert (ours & ~truth & (phantom.volume.voxels > -300)).sum() <= 0.25 * truth.sum()
        assert abs(m.mean_diameter_mm - n.diameter_mm) <= max(0.5, 0.1 * n.diameter_mm), m
