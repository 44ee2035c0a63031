"""A scan without aerated lung is refused by the real worker with ``NoLungFound`` (its type kept across
the process boundary, the worker stays up) and never comes back as "0 finding(s)"; a slab comes back
with the partial-lung warning; a whole chest without it. The Ray actor reports it as the scan's fault."""

from __future__ import annotations

import pytest
from lung_scans import chest, head_ct, slab, write_image

from inference.imaging import NoLungFound
from inference.service.client import InferenceClient

WARNED = "mL of aerated lung found; a screening chest CT holds about 3,000–6,000 mL"


@pytest.fixture(scope="module")
def client():
    with InferenceClient(model="classical", device="cpu", torch_threads=1) as c:
        yield c


def test_a_head_is_refused_as_itself_and_the_worker_stays_up(client, tmp_path):
    with pytest.raises(NoLungFound, match=r"^head-ct: no aerated lung found: the lung mask holds 0 mL"):
        client.detect(head_ct(), saliency=False)
    pid = client.worker_pid
    path = write_image(head_ct(), tmp_path / "head.nii.gz")
    with pytest.raises(NoLungFound) as info:
        client.detect(path, saliency=False)  # read by the worker from the path
    assert info.value.path == str(path)
    assert info.value.fix.startswith("Open the chest CT series")
    assert client.worker_pid == pid  # not a crash: the same worker answers the next scan

    reply = client.detect(chest(), saliency=False)  # a whole chest: no lung warning
    assert not [w for w in reply.warnings if WARNED in w], reply.warnings
    assert "lungs" in reply.timing


def test_a_slab_is_screened_with_the_partial_lung_warning(client):
    reply = client.detect(slab(chest(), 60.0), saliency=False)
    warned = [w for w in reply.warnings if WARNED in w]
    assert len(warned) == 1 and warned[0].startswith("only ")
    assert warned[0].endswith("part of the lungs may lie outside the scan and nodules there are not searched")


def test_the_ray_actor_reports_no_lung_as_the_scans_fault(tmp_path):
    from inference.service.ray_actor import ScanScreener

    path = write_image(head_ct(), tmp_path / "head.mha")
    result = ScanScreener("classical", "cpu", torch_threads=1).screen(str(path), None, saliency=False)
    assert not result.ok
    assert result.error_type == "NoLungFound"
    assert result.error.startswith(f"{path}: no aerated lung found")


def test_one_lung_mask_per_scan_is_checked_and_shared_by_the_analysis(tmp_path, monkeypatch):
    """The worker's pipeline in this process: the full-resolution lung mask is computed once per
    request, also when there are findings to analyse (they get the same mask, none of their own)."""
    import importlib

    from service_scans import small_chest

    from inference.service import worker
    from inference.service.protocol import DetectRequest, ScanPath

    calls: list[tuple[int, ...]] = []

    def counted(volume):
        calls.append(volume.shape)
        return real(volume)

    real = worker.lung_mask
    monkeypatch.setattr(worker, "lung_mask", counted)
    monkeypatch.setattr(importlib.import_module("inference.nodules.analyze"), "shared_lung_mask", counted)
    volume, _ = small_chest()
    path = write_image(volume, tmp_path / "chest.mha")
    runtime = worker.Runtime("classical", "cpu")
    reply = runtime.handle(DetectRequest(1, ScanPath(str(path), None), saliency=False), lambda f, m: None)
    assert reply.findings and all(f.analysis is not None for f in reply.findings)
    assert calls == [volume.shape]  # once, though every finding was analysed
    assert [w for w in reply.warnings if WARNED in w]  # this small chest holds ~470 mL: warned
