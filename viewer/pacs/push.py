"""Sending a reviewed study's results to a node: SR, SEG, saliency maps (pmap) and the PDF report.

The objects are exported with :mod:`viewer.export` (the audited export path) into the outbox
folder beside the archive, where they stay until sent; a PDF file that is not DICOM yet is wrapped
as Encapsulated PDF in the scan's study. Then :class:`~viewer.pacs.send.Sender` queues and sends them.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import TYPE_CHECKING

from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from pynetdicom.sop_class import EncapsulatedPDFStorage  # type: ignore[attr-defined]  # names made at import time

from viewer.pacs.archive import Archive
from viewer.pacs.errors import PacsError
from viewer.pacs.nodes import PacsConfig
from viewer.pacs.send import Sender, SendOutcome

if TYPE_CHECKING:
    from viewer.review.store import Store

PUSHABLE = ("sr", "seg", "pmap", "pdf")


def is_dicom(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:] == b"DICM"


def encapsulate_pdf(pdf: Path, source: Path, out: Path, title: str = "NoduleLens report") -> Path:
    """An Encapsulated PDF Storage instance of ``pdf`` in the study (and patient) of ``source``."""
    data = pdf.read_bytes()
    if not data.startswith(b"%PDF"):
        raise PacsError(pdf, "is not a PDF file", "Export the report again")
    src = dcmread(source, stop_before_pixels=True)
    ds = Dataset()
    for kw in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyDate",
               "StudyTime", "StudyID", "AccessionNumber", "ReferringPhysicianName"):
        setattr(ds, kw, src.get(kw, ""))
    now = _dt.datetime.now()
    ds.SOPClassUID = EncapsulatedPDFStorage
    ds.SOPInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "DOC"
    ds.SeriesNumber = 901
    ds.InstanceNumber = 1
    ds.ContentDate, ds.ContentTime = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    ds.AcquisitionDateTime = now.strftime("%Y%m%d%H%M%S")
    ds.Manufacturer = "NoduleLens"
    ds.ConversionType = "WSD"
    ds.BurnedInAnnotation = "YES"
    ds.DocumentTitle = title
    ds.ConceptNameCodeSequence = []
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocument = data + (b"\0" if len(data) % 2 else b"")
    ds.EncapsulatedDocumentLength = len(data)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    out.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(out, enforce_file_format=True)
    return out


def objects_of(files: list[Path], kind: str, source: Path | None, folder: Path) -> list[tuple[str, str, str]]:
    """(path, SOP instance UID, kind) of each DICOM file of an export (PDFs wrapped first)."""
    out = []
    for f in files:
        if not is_dicom(f) and f.suffix.lower() == ".pdf":
            if source is None:
                raise PacsError(f, "cannot be wrapped as DICOM: the scan's files are missing",
                                "Restore the scan, or send the PDF by other means")
            f = encapsulate_pdf(f, source, folder / f"{f.stem}.dcm")
        if not is_dicom(f):
            continue
        out.append((str(f), str(dcmread(f, stop_before_pixels=True).SOPInstanceUID), kind))
    return out


def export_for_push(store: "Store", study_key: str, formats: list[str], outbox: Path,
                    actor: str = "") -> tuple[list[tuple[str, str, str]], list[str], str]:
    """Export ``formats`` of the study into ``outbox``: (objects, notes, series UID)."""
    from viewer.export.exporter import ExportFormat
    from viewer.export.from_store import export_from_store

    row = store.series_row(study_key)
    series_uid = row["series_uid"]
    scan_files = Archive.instances(row["scan_path"]) if Path(row["scan_path"]).is_dir() else []
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    objects: list[tuple[str, str, str]] = []
    notes: list[str] = []
    for name in formats:
        if name not in PUSHABLE:
            raise PacsError(name, "cannot be sent to a PACS", f"Use some of: {', '.join(PUSHABLE)}")
        fmt = ExportFormat.parse(name)  # raises UnknownFormat where this version lacks it
        folder = outbox / series_uid / f"{stamp}-{name}"
        result, more = export_from_store(store, series_uid, fmt, folder, actor=actor)
        notes += more
        objects += objects_of(list(result.files), name, scan_files[0] if scan_files else None, folder)
    return objects, notes, series_uid


def outbox_dir(config: PacsConfig) -> Path:
    return Path(config.local.archive).parent / "outbox"


def push_study(config: PacsConfig, store: "Store", node_name: str, study_key: str, formats: list[str],
               actor: str = "", prefer_web: bool = False) -> tuple[list[SendOutcome], list[str]]:
    config.node(node_name)
    objects, notes, series_uid = export_for_push(store, study_key, formats, outbox_dir(config), actor)
    if not objects:
        raise PacsError(study_key, "produced nothing to send", "Review the study (the SR needs findings)")
    return Sender(config, store, actor or "pacs", prefer_web).send(node_name, objects, series_uid), notes


def after_sign_off(config: PacsConfig, store: "Store", study_key: str, actor: str) -> list[SendOutcome]:
    """The automatic send after sign-off (settings: ``auto_send_node``); nothing when unset."""
    if not config.local.auto_send_node:
        return []
    outcomes, _notes = push_study(config, store, config.local.auto_send_node, study_key,
                                  list(config.local.auto_send_formats), actor)
    return outcomes
