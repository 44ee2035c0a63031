"""kill -9 of the listener process in the middle of a transfer: every acknowledged instance is on
disk and complete, nothing is registered half-way, and the sender's retry completes the series."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pacs_orthanc import free_port
from pynetdicom import evt

from viewer.pacs import dimse
from viewer.pacs.errors import PacsError
from viewer.pacs.nodes import LocalAE, Node, PacsConfig
from viewer.pacs.send import Sender
from viewer.review.pacs_queue import OutboxState, items
from viewer.review.store import Store

REPO = Path(__file__).resolve().parents[3]
ACKED_BEFORE_KILL = 20


def _start_listener(settings: Path, db: Path, port: int, log: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    with open(log, "ab") as out:  # the child keeps its own copy of the handle
        proc = subprocess.Popen([sys.executable, "-m", "viewer.cli", "listen", "--settings", str(settings),
                                 "--db", str(db), "--no-screen"], cwd=REPO, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    me = LocalAE(ae_title="MODALITY")
    node = Node("workstation", ae_title="WORKSTATION", host="127.0.0.1", port=port)
    t_end = time.monotonic() + 60
    while time.monotonic() < t_end:
        assert proc.poll() is None, log.read_text()
        try:
            dimse.echo(node, me)
            return proc
        except PacsError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"the listener did not start: {log.read_text()}")


@pytest.fixture()
def series(tmp_path: Path) -> Path:
    from inference.imaging.dicom_writer import write_series
    from inference.phantom import SMALL_SHAPE_ZYX, demo_phantom

    out = tmp_path / "sent"
    write_series(demo_phantom(shape_zyx=SMALL_SHAPE_ZYX).volume, out, patient_id="CRASH-1", uid_seed="crash")
    return out


class PauseAfterAcks:
    """pynetdicom handlers on the sending association: after ``n`` C-STORE responses, the next
    PDU sent (the command of the following instance) blocks until :meth:`release`."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.acks = 0
        self.paused = threading.Event()
        self._go = threading.Event()

    def handlers(self) -> list:
        return [(evt.EVT_DIMSE_RECV, self._recv), (evt.EVT_PDU_SENT, self._sent)]

    def _recv(self, event) -> None:
        if type(event.message).__name__ == "C_STORE_RSP":
            self.acks += 1

    def _sent(self, event) -> None:
        if self.acks >= self.n and type(event.pdu).__name__ == "P_DATA_TF" and not self.paused.is_set():
            self.paused.set()
            self._go.wait(timeout=60)

    def release(self) -> None:
        self._go.set()


def test_kill_9_mid_transfer_loses_nothing_and_the_retry_completes(tmp_path: Path, series: Path) -> None:
    from inference.imaging import load

    port = free_port()
    archive = tmp_path / "archive"
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"pacs/local": {
        "ae_title": "WORKSTATION", "port": port, "archive": str(archive), "allowed_callers": ["MODALITY"],
        "quiet_seconds": 1.0, "min_free_mb": 10, "timeout_s": 20}}))
    listener_db, log = tmp_path / "listener.db", tmp_path / "listener.log"
    sender_cfg = PacsConfig(LocalAE(ae_title="MODALITY", archive=str(tmp_path / "unused"), timeout_s=10),
                            (Node("workstation", ae_title="WORKSTATION", host="127.0.0.1", port=port),))
    files = sorted(series.glob("*.dcm"))
    objects = [(str(f), str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID), "ct") for f in files]

    proc = _start_listener(settings, listener_db, port, log)
    pause = PauseAfterAcks(ACKED_BEFORE_KILL)
    with Store(tmp_path / "sender.db") as sender_store:
        sender = Sender(sender_cfg, sender_store, handlers=pause.handlers())
        outcome: list = []
        t = threading.Thread(target=lambda: outcome.extend(sender.send("workstation", objects)))
        t.start()
        assert pause.paused.wait(timeout=60), "the transfer did not reach the kill point"
        os.kill(proc.pid, signal.SIGKILL)  # in the middle of the transfer: the next instance is on its way
        proc.wait(timeout=30)
        pause.release()
        t.join(timeout=120)
        acked = [o.sop_uid for o in outcome if o.ok]
        assert len(acked) == ACKED_BEFORE_KILL and len(outcome) == len(files)

        # every acknowledged instance is on disk, complete; nothing else is; nothing was registered
        on_disk = sorted(archive.rglob("*.dcm"))
        assert sorted(p.stem for p in on_disk) == sorted(acked)
        for p in on_disk:
            assert pydicom.dcmread(p).pixel_array.shape == (128, 128)
        with Store(listener_db, read_only=True) as s:
            assert s.query("SELECT COUNT(*) AS n FROM series")[0]["n"] == 0
            assert s.query("SELECT COUNT(*) AS n FROM pacs_received")[0]["n"] == 0
        assert len(items(sender_store, OutboxState.PENDING)) == len(files) - ACKED_BEFORE_KILL

        # the listener comes back; the sender's queue retries what was not acknowledged
        proc = _start_listener(settings, listener_db, port, log)
        try:
            retried = Sender(sender_cfg, sender_store).retry_due(all_pending=True)
            assert retried and all(o.ok for o in retried)
            assert not items(sender_store, OutboxState.PENDING)

            def registered() -> list[dict]:
                with Store(listener_db, read_only=True) as s:
                    return s.query("SELECT * FROM series")
            t_end = time.monotonic() + 60
            while not registered() and time.monotonic() < t_end:
                time.sleep(0.2)
            rows = registered()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    assert len(rows) == 1 and rows[0]["n_slices"] == len(files), log.read_text()
    assert not list(archive.rglob("*.partial"))
    assert np.array_equal(load(rows[0]["scan_path"]).voxels, load(series).voxels)
