"""The Detector protocol: every registered architecture builds a Detector; cancellation is the one
``Cancelled``; whether Grad-CAM runs is the detector's ``explains``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inference.detection import monai_bundle
from inference.detection.detector import IMPLEMENTATIONS, Detector, detector_class, load_detector
from inference.detection.registry import ModelError
from inference.domain.finding import Box3D, Finding
from inference.domain.progress import Cancelled
from inference.imaging.volume import Volume
from inference.saliency.gradcam import explain


def test_every_registered_architecture_names_a_class_that_builds_from_a_manifest() -> None:
    for architecture in IMPLEMENTATIONS:
        cls = detector_class(architecture)
        assert callable(cls.from_manifest) and isinstance(cls.explains, bool), architecture
    with pytest.raises(ModelError, match="no detector is registered for architecture 'unet-9000'"):
        detector_class("unet-9000")


def test_loaded_detectors_follow_the_protocol_and_say_whether_they_explain() -> None:
    classical, cnn = load_detector("classical", "cpu"), load_detector("nodulelens-cnn-v2", "cpu")
    assert isinstance(classical, Detector) and isinstance(cnn, Detector)
    assert (classical.explains, cnn.explains) == (False, True)
    vol = Volume(np.full((20, 20, 20), -800, np.int16), Volume.make_affine((1.0, 1.0, 1.0), (0.0, 0.0, 0.0)))
    f = Finding("F001", (10.0, 10.0, 10.0), Box3D.around((10.0, 10.0, 10.0), 6.0), 0.9)
    assert explain(classical, vol, [f]) == {}  # decided by the protocol, not by looking for a network


def test_the_monai_detector_reports_cancellation_as_cancelled() -> None:
    manifest = monai_bundle.bundle_manifest()
    with torch.device("meta"):  # the architecture without initialising it: cancelled before it runs
        net = monai_bundle.build_network(manifest.network)
    det = monai_bundle.BundleDetector(manifest, "cpu", network=net.to_empty(device="cpu"))
    assert isinstance(det, Detector) and not det.explains
    vol = Volume(np.full((8, 24, 24), -900, np.int16), Volume.make_affine((1.4, 1.4, 2.5), (0.0, 0.0, 0.0)))
    with pytest.raises(Cancelled, match="detection cancelled"):
        det.detect(vol, cancelled=lambda: True)
