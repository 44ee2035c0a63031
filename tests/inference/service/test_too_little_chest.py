"""A volume with too little of the chest is refused with ``TooLittleChest`` on every detection path:
before the worker starts (a Volume handed to the client), in the real worker right after it reads a
path (``detect``, ``screen``) and in the Ray actor's pipeline."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from inference.imaging import SeriesInfo, TooLittleChest, Volume
from inference.service.client import InferenceClient


def _thin(slices: int = 2) -> Volume:
    vox = np.random.default_rng(1).normal(-850, 20, (slices, 96, 96)).astype(np.int16)
    return Volume(vox, Volume.make_affine((0.7, 0.7, 1.25)), SeriesInfo(source="thin-slab"))


def _thin_file(path, slices: int = 2):
    img = sitk.GetImageFromArray(np.asarray(_thin(slices).voxels))
    img.SetSpacing((0.7, 0.7, 1.25))
    sitk.WriteImage(img, str(path))
    return path


def test_a_volume_is_refused_before_any_worker_starts():
    client = InferenceClient(model="classical", device="cpu", torch_threads=1)
    try:
        with pytest.raises(TooLittleChest, match=r"^thin-slab: too little of the chest to screen: the volume "
                                                 r"is 2 × 96 × 96 voxels"):
            client.detect(_thin())
        assert client.worker_pid is None and client.ready is None  # nothing was spawned
    finally:
        client.close()


def test_a_path_is_refused_by_the_worker_and_keeps_its_type(tmp_path):
    path = _thin_file(tmp_path / "two-slices.nii.gz")
    with InferenceClient(model="classical", device="cpu", torch_threads=1) as client:
        with pytest.raises(TooLittleChest) as info:
            client.detect(path)
        assert info.value.path == str(path)
        assert "at least 3 voxels and 30 mm along every axis" in str(info.value)
        assert client.worker_pid is not None  # the worker stays up for the next scan


def test_the_ray_actor_reports_it_as_the_scans_fault(tmp_path):
    from inference.service.ray_actor import ScanScreener

    path = _thin_file(tmp_path / "one-slice.mha", slices=1)
    result = ScanScreener("classical", "cpu", torch_threads=1).screen(str(path), None, saliency=False)
    assert not result.ok
    assert result.error_type == "TooLittleChest"
    assert result.error.startswith(f"{path}: too little of the chest to screen")
