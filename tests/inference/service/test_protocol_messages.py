"""Protocol messages: frozen, validated on creation, small when pickled."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest

from inference.domain.finding import Box3D, Finding, ModelInfo
from inference.imaging.volume import SeriesInfo
from inference.service.protocol import (DetectReply, DetectRequest, ProgressMessage, ScanPath, SharedArray,
                                        VolumeInSharedMemory, affine_to_tuple)


def test_messages_are_frozen():
    p = ProgressMessage(1, 0.5, "half")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.fraction = 0.7  # type: ignore[misc]


@pytest.mark.parametrize("make", [
    lambda: SharedArray("", (2, 2, 2), "<i2"),
    lambda: SharedArray("psm_x", (0, 2, 2), "<i2"),
    lambda: SharedArray("psm_x", (2, 2, 2), "not-a-dtype"),
    lambda: ScanPath(""),
    lambda: DetectRequest(1, ScanPath("/scan"), saliency=True, saliency_dir=None),
    lambda: DetectRequest(1, ScanPath("/scan"), saliency=False, saliency_top=-1),
    lambda: affine_to_tuple(np.eye(3)),
])
def test_bad_messages_are_refused(make):
    with pytest.raises((ValueError, TypeError)):
        make()


def test_progress_is_clamped_and_nbytes_is_exact():
    assert ProgressMessage(1, 1.7).fraction == 1.0 and ProgressMessage(1, -0.2).fraction == 0.0
    assert SharedArray("psm_x", (300, 512, 512), "<i2").nbytes == 300 * 512 * 512 * 2


def test_a_request_for_a_150_mb_scan_pickles_to_a_few_kilobytes():
    info = SeriesInfo(series_instance_uid="1.2.3", sop_instance_uids=tuple(f"1.2.{i}" for i in range(300)))
    ref = VolumeInSharedMemory(SharedArray("psm_abc", (300, 512, 512), "<i2"),
                               affine_to_tuple(np.eye(4)), info)
    req = DetectRequest(7, ref, saliency_dir="/tmp/s")
    assert len(pickle.dumps(req)) < 20_000
    assert pickle.loads(pickle.dumps(req)) == req


def test_reply_round_trips_through_pickle_with_its_findings():
    f = Finding("F001", (1.0, 2.0, 3.0), Box3D.around((1.0, 2.0, 3.0), 6.0), 0.8, diameter_mm=6.0)
    reply = DetectReply(3, (f,), SeriesInfo(series_instance_uid="9"), "/scan",
                        ModelInfo("m", "1", "ab"), 0.5, "cpu", (("F001", "/s/F001.npz"),),
                        (("detect", 1.5),))
    back = pickle.loads(pickle.dumps(reply))
    assert back.findings == (f,) and back.saliency == {"F001": "/s/F001.npz"}
    assert back.timing == {"detect": 1.5}
