"""A real spawned worker process (classical baseline, CPU) on a small synthetic chest scan."""

from __future__ import annotations

import os
from dataclasses import replace
import signal
import threading

import numpy as np
import pytest
import SimpleITK as sitk

from service_scans import small_chest

from inference.detection.registry import DeviceUnavailable, ModelError
from inference.domain.progress import Cancelled
from inference.imaging import ImagingError, Volume
from inference.service.client import InferenceClient
from inference.service.errors import WorkerDied, WorkerFailed


@pytest.fixture(scope="module")
def scan():
    return small_chest()


@pytest.fixture(scope="module")
def client():
    c = InferenceClient(model="classical", device="cpu", torch_threads=1)
    yield c
    c.close()


def _hit(reply, centre, tol_mm=4.0):
    assert reply.findings, "no findings came back"
    top = reply.findings[0]
    return float(np.linalg.norm(np.subtract(top.center, centre))) <= tol_mm


def test_worker_finds_the_nodule_and_streams_progress(client, scan, tmp_path):
    volume, centre = scan
    seen: list[tuple[float, str]] = []
    reply = client.detect(volume, progress=lambda f, m: seen.append((f, m)), saliency_dir=tmp_path)
    assert _hit(reply, centre)
    assert reply.model.model_id == "classical" and reply.device == "cpu"
    assert reply.info.series_instance_uid == "2.25.1.2"
    assert all(f.score >= reply.threshold for f in reply.findings)
    assert {"read", "detect"} <= set(reply.timing)
    fractions = [f for f, _ in seen]
    assert len(fractions) >= 3 and fractions == sorted(fractions) and fractions[-1] == 1.0
    assert client.ready is not None and client.worker_pid == client.ready.pid != os.getpid()


def test_worker_stays_warm_and_leaves_no_shared_memory(client, scan, monkeypatch):
    volume, _ = scan
    pid = client.start().pid
    shared: list[str] = []  # the blocks this client creates (other processes on the machine make their own)
    share = InferenceClient._share

    def recording_share(vol):
        shm, ref = share(vol)
        shared.append(shm.name)
        return shm, ref

    monkeypatch.setattr(InferenceClient, "_share", staticmethod(recording_share))
    client.detect(volume, saliency=False)
    client.detect(volume, saliency=False)
    assert client.worker_pid == pid
    assert len(shared) == 2
    if os.path.isdir("/dev/shm"):
        assert not set(shared) & set(os.listdir("/dev/shm"))


def test_cancel_from_another_thread_raises_cancelled_then_next_request_works(client, scan):
    volume, centre = scan

    def cancel_soon(fraction: float, message: str) -> None:
        if fraction >= 0.1:  # detection has started
            threading.Thread(target=client.cancel).start()

    with pytest.raises(Cancelled):
        client.detect(volume, saliency=False, progress=cancel_soon)
    assert _hit(client.detect(volume, saliency=False), centre)


def test_kill_9_mid_run_is_a_typed_error_and_the_worker_restarts(client, scan):
    volume, centre = scan
    pid = client.start().pid

    def kill_worker(fraction: float, message: str) -> None:
        if fraction >= 0.1:
            os.kill(pid, signal.SIGKILL)

    with pytest.raises(WorkerDied) as err:
        client.detect(volume, saliency=False, progress=kill_worker)
    assert err.value.exitcode == -signal.SIGKILL and "started again" in str(err.value)
    reply = client.detect(volume, saliency=False)
    assert client.worker_pid not in (None, pid)
    assert _hit(reply, centre)


def test_scan_path_is_read_by_the_worker(client, scan, tmp_path):
    volume, centre = scan
    img = sitk.GetImageFromArray(np.asarray(volume.voxels))
    img.SetSpacing(volume.spacing_xyz)
    img.SetOrigin(volume.origin)
    path = tmp_path / "chest.mha"
    sitk.WriteImage(img, str(path))
    reply = client.detect(path, saliency=False)
    assert _hit(reply, centre) and reply.source == str(path)


def test_bad_scan_path_is_a_typed_imaging_error_naming_the_file(client, tmp_path):
    missing = tmp_path / "no-such-scan"
    with pytest.raises(ImagingError) as err:
        client.detect(missing, saliency=False)
    assert str(missing) in str(err.value)
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not a scan at all")
    pid = client.worker_pid
    with pytest.raises(ImagingError) as err:
        client.detect(junk, saliency=False)
    assert str(junk) in str(err.value)
    assert client.worker_pid == pid  # a bad request does not cost the warm worker


def test_an_exception_in_the_worker_is_a_typed_error_and_the_worker_stays_up(client, scan):
    volume, centre = scan
    pid = client.start().pid
    # an age that is not a number breaks the analysis inside the worker (a volume too small to
    # filter, used here before, is now refused before it reaches the worker: test_too_little_chest.py)
    bad_age = Volume(volume.voxels, volume.affine, replace(volume.info, patient_age_years="sixty"))
    with pytest.raises(WorkerFailed) as err:
        client.detect(bad_age, saliency=False)
    assert "detection failed in the inference worker" in str(err.value)
    assert err.value.error_type == "builtins:ValueError" and "Traceback" in err.value.details
    assert client.worker_pid == pid
    assert _hit(client.detect(volume, saliency=False), centre)


def test_unknown_model_is_a_typed_error_at_start():
    with InferenceClient(model="no-such-model", device="cpu") as c, pytest.raises(ModelError) as err:
        c.start()
    assert "no-such-model" in str(err.value) and c.worker_pid is None  # refused before a spawn


def test_absent_cuda_is_a_typed_error_at_start():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with InferenceClient(model="classical", device="cuda") as c, pytest.raises(DeviceUnavailable) as err:
        c.start()
    assert "--device cpu" in str(err.value)


def test_a_worker_that_ignores_cancel_is_stopped_after_the_grace_period(client, scan):
    volume, centre = scan
    pid = client.start().pid
    client.cancel_grace, grace = 0.0, client.cancel_grace
    try:
        with pytest.raises(Cancelled, match="worker was stopped"):
            client.detect(volume, saliency=False,
                          progress=lambda f, m: client.cancel() if f >= 0.1 else None)
    finally:
        client.cancel_grace = grace
    assert client.worker_pid is None  # killed, not left running
    assert _hit(client.detect(volume, saliency=False), centre)
    assert client.worker_pid != pid
