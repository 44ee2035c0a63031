"""Received and pulled series into the store: registered (worklist), recorded, and screened."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydicom import dcmread

from viewer.pacs.archive import Archive
from viewer.pacs.listener import CompletedSeries
from viewer.review.pacs_queue import ReceivedSource, record_received

if TYPE_CHECKING:
    from viewer.review.screening import Detect, Summary
    from viewer.review.store import Store

log = logging.getLogger(__name__)


def register_series(store: "Store", folder: str | Path, source: ReceivedSource, origin: str) -> str | None:
    """Register a CT series folder of the archive in the store; its series UID (None: not CT/empty)."""
    files = Archive.instances(folder)
    if not files:
        return None
    ds = dcmread(files[0], stop_before_pixels=True)
    if str(ds.get("Modality", "")) != "CT":
        log.info("%s: %s series, kept in the archive, not put on the worklist", folder, ds.get("Modality", "?"))
        return None
    series_uid, study_uid = str(ds.SeriesInstanceUID), str(ds.StudyInstanceUID)
    patient_id = str(ds.get("PatientID", ""))
    store.add_series(study_uid, series_uid, str(Path(folder).resolve()), actor=origin or source.value,
                     patient_id=patient_id, patient_name=str(ds.get("PatientName", "")),
                     study_date=str(ds.get("StudyDate", "")), description=str(ds.get("SeriesDescription", "")),
                     n_slices=len(files))
    record_received(store, series_uid, study_uid, patient_id, source, origin, str(Path(folder).resolve()),
                    len(files))
    return series_uid


def client_detect(client: Any, saliency_root: Path | None, say: Callable[[str], None]) -> "Detect":
    """A screening ``detect`` function on an :class:`inference.service.client.InferenceClient`."""
    from viewer.review.screening import Detection, Progress, SeriesJob

    def detect(job: SeriesJob, sub: Progress) -> Detection:
        reply = client.detect(job.folder, series_uid=job.series_uid, analyze=True,
                              saliency=saliency_root is not None,
                              saliency_dir=saliency_root / job.series_uid if saliency_root else None,
                              progress=sub)
        for w in reply.warnings:
            say(f"{job.folder}: note: {w}")
        return Detection(reply.findings, reply.model, reply.threshold, reply.saliency,
                         reply.info.study_instance_uid)
    return detect


class Intake:
    """What the listener does with a complete series: register it, then screen it (when a
    ``detect`` function is given) so that it lands on the worklist, flagged or not."""

    def __init__(self, store: "Store", detect: "Detect | None" = None,
                 say: Callable[[str], None] | None = None) -> None:
        self.store = store
        self.detect = detect
        self.say = say or log.info
        self.summaries: list[Summary] = []

    def __call__(self, series: CompletedSeries) -> None:
        if not series.is_ct:
            self.say(f"{series.folder}: {series.n_instances} non-CT instance(s) from {series.calling_ae} archived")
            return
        uid = register_series(self.store, series.folder, ReceivedSource.LISTENER, series.calling_ae)
        if uid is None or self.detect is None:
            return
        from viewer.review.screening import screen_folder
        summary = screen_folder(series.folder, self.store, self.detect, log=self.say, actor="listener")
        self.summaries.append(summary)
        self.say(f"received series {uid} from {series.calling_ae}: {summary.line()}")
