"""Writing one instance that arrived by C-STORE (listener, or C-GET sub-operation) into the archive."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from viewer.pacs.archive import Archive, InstanceKey, is_uid
from viewer.pacs.errors import ArchiveError

log = logging.getLogger(__name__)

SUCCESS = 0x0000
OUT_OF_RESOURCES = 0xA700
DATASET_MISMATCH = 0xA900
CANNOT_UNDERSTAND = 0xC000


@dataclass(frozen=True, slots=True)
class Stored:
    status: int
    key: InstanceKey | None = None
    path: Path | None = None
    sop_class: str = ""


def store_event(archive: Archive, event: Any) -> Stored:
    """Validate and write the dataset of a C-STORE request; the status to answer with."""
    caller = event.assoc.requestor.ae_title if event.assoc.is_acceptor else event.assoc.acceptor.ae_title
    try:
        ds = event.dataset
        key = InstanceKey(str(ds.get("PatientID", "")), str(ds.StudyInstanceUID),
                          str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID))
        sop_class = str(event.request.AffectedSOPClassUID)
    except Exception as exc:  # anything pydicom cannot read, or missing UIDs
        log.error("from %s: malformed dataset refused (%s: %s)", caller, type(exc).__name__, exc)
        return Stored(CANNOT_UNDERSTAND)
    if key.sop_uid != str(event.request.AffectedSOPInstanceUID) or not all(
            is_uid(u) for u in (key.study_uid, key.series_uid, key.sop_uid)):
        log.error("from %s: dataset %s refused: its UIDs are missing, invalid or do not match the request",
                  caller, key.sop_uid or "(no SOP Instance UID)")
        return Stored(DATASET_MISMATCH)
    try:
        path = archive.write(key, event.encoded_dataset())
    except ArchiveError as exc:
        log.error("from %s: %s", caller, exc)
        return Stored(OUT_OF_RESOURCES)
    return Stored(SUCCESS, key, path, sop_class)
