"""The listener (C-STORE SCP) against a real Orthanc: refusing unknown callers and malformed data,
receiving a series sent by Orthanc and screening it onto the worklist, sending SR/SEG/PDF back."""

from __future__ import annotations

import io
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pacs_orthanc import OUR_AE, PATIENT

from viewer.pacs.listener import Listener
from viewer.pacs.nodes import PacsConfig
from viewer.review.store import Store


def _wait(what: str, ok, timeout_s: float = 180.0, every_s: float = 0.2) -> None:
    t_end = time.monotonic() + timeout_s
    while time.monotonic() < t_end:
        if ok():
            return
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store(tmp_path_factory.mktemp("store") / "nodulelens.db") as s:
        yield s


@pytest.fixture(scope="module")
def screened(config: PacsConfig, orthanc, phantom_studies: dict[str, Path], store: Store) -> dict:
    """Orthanc sends the current phantom study to our listener, which screens it (classical model)."""
    from inference.service.client import InferenceClient
    from viewer.pacs.intake import Intake, client_detect

    study_uid = str(pydicom.dcmread(next(phantom_studies["current"].glob("*.dcm"))).StudyInstanceUID)
    with InferenceClient(model="classical", device="cpu", torch_threads=1) as client:
        intake = Intake(store, client_detect(client, None, print))
        listener = Listener(config, intake)
        listener.start()
        try:
            orthanc.post("/modalities/nodulelens/store",
                         {"Resources": [orthanc.find_study(study_uid)], "Synchronous": True})
            _wait("the received series to be screened", lambda: bool(intake.summaries), timeout_s=300)
        finally:
            listener.stop()
    return {"study_uid": study_uid, "listener": listener, "summary": intake.summaries[0]}


def test_listener_receives_from_orthanc_and_screens_onto_the_worklist(screened: dict, store: Store,
                                                                       phantom_studies: dict[str, Path]) -> None:
    from inference.imaging import load
    from viewer.review.pacs_queue import ReceivedSource, received

    assert screened["listener"].received == 64
    assert screened["summary"].count("screened") == 1
    rows = store.query("SELECT * FROM series WHERE study_uid=?", (screened["study_uid"],))
    assert len(rows) == 1 and rows[0]["screen_state"] == "screened" and rows[0]["n_slices"] == 64
    assert rows[0]["model_id"] == "classical"
    [rec] = received(store)
    assert rec.source is ReceivedSource.LISTENER and rec.origin == "TESTPACS" and rec.patient_id == PATIENT
    got, sent = load(rows[0]["scan_path"]), load(phantom_studies["current"])
    assert np.array_equal(got.voxels, sent.voxels)
    # the worklist the GUI shows lists the received study
    assert any(r.series_uid == rows[0]["series_uid"] for r in store.worklist())


def test_unknown_calling_ae_is_refused_with_the_right_reason(config: PacsConfig, tmp_path: Path) -> None:
    from dataclasses import replace

    from pacs_orthanc import free_port

    port = free_port()
    listener = Listener(replace(config, local=replace(config.local, archive=str(tmp_path / "a"))), port=port)
    listener.start()
    try:
        refused = subprocess.run(["echoscu", "-aet", "STRANGER", "-aec", OUR_AE, "127.0.0.1", str(port)],
                                 capture_output=True, text=True, timeout=60)
        accepted = subprocess.run(["echoscu", "-aet", "TESTPACS", "-aec", OUR_AE, "127.0.0.1", str(port)],
                                  capture_output=True, text=True, timeout=60)
    finally:
        listener.stop()
    text = refused.stdout + refused.stderr
    assert refused.returncode != 0 and "Rejected Permanent" in text
    assert "Calling AE Title Not Recognized" in text, text
    assert accepted.returncode == 0, accepted.stderr
    assert listener.refused == 1


def _send_two(cfg: PacsConfig, first: pydicom.Dataset, second: pydicom.Dataset) -> tuple[int, int]:
    from pacs_orthanc import free_port
    from pynetdicom import AE
    from pynetdicom.sop_class import CTImageStorage

    port = free_port()
    listener = Listener(cfg, port=port)
    listener.start()
    try:
        ae = AE(ae_title="TESTPACS")
        ae.add_requested_context(CTImageStorage, [str(second.file_meta.TransferSyntaxUID)])
        assoc = ae.associate("127.0.0.1", port, ae_title=OUR_AE)
        assert assoc.is_established
        statuses = (int(assoc.send_c_store(first).Status), int(assoc.send_c_store(second).Status))
        assoc.release()
    finally:
        listener.stop()
    return statuses


def test_malformed_dataset_fails_and_the_listener_keeps_running(config: PacsConfig, tmp_path: Path,
                                                              phantom_studies: dict[str, Path],
                                                              caplog: pytest.LogCaptureFixture) -> None:
    from dataclasses import replace

    cfg = replace(config, local=replace(config.local, archive=str(tmp_path / "a")))
    good = pydicom.dcmread(sorted(phantom_studies["prior"].glob("*.dcm"))[0])
    bad = pydicom.dcmread(sorted(phantom_studies["prior"].glob("*.dcm"))[1])
    del bad.SeriesInstanceUID
    with caplog.at_level("ERROR", logger="viewer.pacs.receive"):
        assert _send_two(cfg, bad, good) == (0xC000, 0x0000)
    assert "from TESTPACS: malformed dataset refused" in caplog.text
    files = list(Path(cfg.local.archive).rglob("*"))
    assert [f.name for f in files if f.is_file()] == [f"{good.SOPInstanceUID}.dcm"]


def test_too_little_disk_space_is_out_of_resources(config: PacsConfig, tmp_path: Path,
                                                   phantom_studies: dict[str, Path]) -> None:
    from dataclasses import replace

    cfg = replace(config, local=replace(config.local, archive=str(tmp_path / "a"), min_free_mb=10**9))
    one = pydicom.dcmread(sorted(phantom_studies["prior"].glob("*.dcm"))[0])
    assert _send_two(cfg, one, one) == (0xA700, 0xA700)
    assert not [f for f in (tmp_path / "a").rglob("*") if f.is_file()]


def _review_and_sign_off(store: Store, series_uid: str, folder: str) -> None:
    from inference.imaging import load
    from inference.phantom import SMALL_SHAPE_ZYX, demo_phantom
    from viewer.review.model import RejectReason
    from viewer.review.session import ReviewSession

    session = ReviewSession(store, series_uid, "Dr Test", volume=load(folder), current_model="classical")
    for fid in session.undecided_ai():
        session.reject(fid, next(iter(RejectReason)))
    nodule = max(demo_phantom(shape_zyx=SMALL_SHAPE_ZYX).nodules, key=lambda n: n.diameter_mm)
    session.add(center=nodule.center)
    session.sign_off()


def _report_pdf(path: Path) -> Path:
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path))
    c.drawString(72, 720, "NoduleLens test report")
    c.save()
    return path


def test_push_sr_seg_and_pdf_back_to_orthanc(screened: dict, config: PacsConfig, orthanc, store: Store,
                                             tmp_path: Path) -> None:
    from viewer.export.exporter import ExportFormat
    from dataclasses import replace

    from viewer.pacs.push import after_sign_off, objects_of
    from viewer.pacs.send import Sender
    from viewer.review.pacs_queue import OutboxState, items

    row = store.query("SELECT * FROM series WHERE study_uid=?", (screened["study_uid"],))[0]
    _review_and_sign_off(store, row["series_uid"], row["scan_path"])
    formats = ["sr", "seg"] + (["pdf"] if "pdf" in {f.value for f in ExportFormat} else [])
    assert after_sign_off(config, store, row["series_uid"], "Dr Test") == []  # no auto-send node set
    auto = replace(config, local=replace(config.local, auto_send_node="orthanc", auto_send_formats=tuple(formats)))
    outcomes = after_sign_off(auto, store, row["series_uid"], "Dr Test")  # the hook the GUI calls
    if "pdf" not in formats:  # the PDF report exporter is not in this version: send a real PDF file
        scan = sorted(Path(row["scan_path"]).glob("*.dcm"))[0]
        objects = objects_of([_report_pdf(tmp_path / "report.pdf")], "pdf", scan, tmp_path)
        outcomes += Sender(config, store, "Dr Test").send("orthanc", objects, row["series_uid"])
    assert {o.kind for o in outcomes} == {"sr", "seg", "pdf"}
    assert all(o.ok for o in outcomes), [o.line() for o in outcomes]
    for o in outcomes:
        ours = pydicom.dcmread(o.path)
        theirs = pydicom.dcmread(io.BytesIO(orthanc.instance_file(o.sop_uid)))
        assert theirs.SOPClassUID == ours.SOPClassUID and theirs.StudyInstanceUID == screened["study_uid"]
        if o.kind == "pdf":
            assert theirs.EncapsulatedDocument.rstrip(b"\0") == ours.EncapsulatedDocument.rstrip(b"\0")
            assert theirs.EncapsulatedDocument.startswith(b"%PDF")
        else:  # every element of the SR / SEG / Parametric Map came back as sent
            assert theirs == ours, o.line()
    assert not items(store, OutboxState.PENDING)
    sends = [a for a in store.audit_log(row["series_uid"]) if a.action == "pacs_send"]
    assert len(sends) == len(outcomes) and all('"ok": true' in a.detail for a in sends)


def test_send_while_the_pacs_is_down_is_queued_and_sent_after_restart(config: PacsConfig, orthanc,
                                                                       tmp_path: Path,
                                                                       phantom_studies: dict[str, Path]) -> None:
    from viewer.pacs.send import Sender
    from viewer.review.pacs_queue import OutboxState, items

    files = sorted(phantom_studies["old"].glob("*.dcm"))[:5]
    objects = [(str(f), str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID), "ct") for f in files]
    db = tmp_path / "queue.db"
    orthanc.stop()
    try:
        with Store(db) as s:
            outcomes = Sender(config, s).send("orthanc", objects)
            assert not any(o.ok for o in outcomes)
            assert len(items(s, OutboxState.PENDING)) == 5
    finally:
        orthanc.start()
    with Store(db) as s:  # the app restarted: a new process opens the same store
        retried = Sender(config, s).retry_due(all_pending=True)
        assert [o.ok for o in retried] == [True] * 5
        assert not items(s, OutboxState.PENDING) and len(items(s, OutboxState.SENT)) == 5
        assert all(i.attempts == 2 for i in items(s))
    for _path, sop, _kind in objects:
        assert orthanc.instance_file(sop) is not None
