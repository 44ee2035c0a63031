"""Export one reviewed study in one format: the entry point of the CLI and the export dialog.

``export_study(inputs, fmt, out, deidentify=...)`` writes:

- ``sr``: a folder with ``sr.dcm`` and the objects it references: ``seg.dcm`` (when every reported
  nodule has a mask) and ``pm_<finding>.dcm`` (per accepted AI finding with saliency);
- ``seg``: ``seg.dcm`` (``out`` is a folder, or a file name ending in .dcm);
- ``pmap``: a folder with ``pm_<finding>.dcm`` per finding with saliency;
- ``csv``: LUNA16 candidates (``reviewed_csv=True``: the reviewed nodules as annotations);
- ``json``: the versioned JSON document.

With ``deidentify`` every DICOM object goes through one :class:`Deidentifier` (consistent UIDs) and
the report of what was removed is written with the export it belongs to: ``deidentification.json``
inside a folder export, ``<file name>.deidentification.json`` beside a file export; the CSV and
JSON get the same UID table, no scan path and no person names. Where the output may go, ``force``
and the file modes: :mod:`viewer.export.out_path`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path

from pydicom.dataset import Dataset

from inference.imaging.volume import Volume
from inference.service.findings_file import SaliencyMap
from viewer.export import json_export, luna_csv, out_path
from viewer.export.deid import REASON_REMOVED, DeidEntry, DeidReport, Deidentifier
from viewer.export.errors import ExportError, UnknownFormat
from viewer.export.plan import Comparison, ExamComparison, ExportPlan, build_plan
from viewer.export.pmap import build_parametric_maps
from viewer.export.seg import build_seg
from viewer.export.source import SourceSeries, load_source
from viewer.export.sr import UnsignedExportWarning, build_sr
from viewer.review.model import AuditEntry, Decision, DecisionRecord, ReviewedStudy


class ExportFormat(Enum):
    SR = "sr"
    SEG = "seg"
    PMAP = "pmap"
    CSV = "csv"
    JSON = "json"
    PDF = "pdf"
    SC = "sc"

    @classmethod
    def parse(cls, text: str) -> "ExportFormat":
        try:
            return cls(text.lower())
        except ValueError:
            raise UnknownFormat(text, "is not an export format",
                                "Use one of: " + ", ".join(f.value for f in cls)) from None


#: formats that read the source scan
DICOM_FORMATS = frozenset({ExportFormat.SR, ExportFormat.SEG, ExportFormat.PMAP, ExportFormat.PDF,
                           ExportFormat.SC})


@dataclass(frozen=True, slots=True, eq=False)
class ExportInputs:
    """A reviewed study and what its exports need besides it."""

    study: ReviewedStudy
    volume: Volume | None = None  # the source scan (DICOM formats)
    masks: Mapping[str, Volume] = field(default_factory=dict)  # finding id → uint8 crop
    #: finding id → 0..1 crop with the method that made it (every label of the map names it)
    saliency: Mapping[str, SaliencyMap] = field(default_factory=dict)
    decisions: Sequence[DecisionRecord] = ()
    audit: Sequence[AuditEntry] = ()
    clinical: Mapping[str, object] | None = None  # viewer.review.clinical_risk.clinical_export
    #: finding id → comparison with the prior exam (follow-up); shown by the SR's JSON and the PDF
    comparisons: Mapping[str, Comparison] = field(default_factory=dict)
    #: the exam's comparison (prior, resolved nodules, tracking UIDs over time); None: a baseline read
    followup: ExamComparison | None = None


@dataclass(frozen=True, slots=True)
class ExportResult:
    files: tuple[Path, ...]
    warnings: tuple[str, ...] = ()
    deid_report: DeidReport | None = None
    #: de-identified exports: old → new UIDs; never written into an output (export_from_store keeps
    #: it in the review store so that later exports of the study reuse it)
    uid_map: Mapping[str, str] = field(default_factory=dict)


def export_study(inputs: ExportInputs, fmt: ExportFormat | str, out: str | Path, *,
                 deidentify: bool = False, reviewed_csv: bool = False,
                 uid_map: Mapping[str, str] | None = None, with_ct: bool = False,
                 force: bool = False) -> ExportResult:
    """Write one format. ``uid_map`` continues the study's de-identification UID map (from the
    store: every de-identified export of a study then uses the same UIDs); ``with_ct`` also writes
    the source CT series (de-identified with the same map) to ``ct/`` beside the outputs.

    The output is checked first (:mod:`viewer.export.out_path`): an existing one is replaced only
    with ``force``; a path that cannot take the export is a typed ``OutputPathError``, and so is
    a failed write. Without ``deidentify`` the files are 0600 and the folders made 0700."""
    fmt = fmt if isinstance(fmt, ExportFormat) else ExportFormat.parse(fmt)
    out = out_path.check_output(fmt.value, out, force=force, deidentify=deidentify)
    folder = out_path.writes_folder(fmt.value, out)
    created = not out.exists()
    try:
        out_path.prepare_output(out, folder, private=not deidentify)
        result = _export(inputs, fmt, out, deidentify, reviewed_csv, uid_map, with_ct, folder)
    except BaseException as exc:
        if created:  # a failed export leaves nothing half-written where it was to go
            out_path.remove_created(out, folder)
        if isinstance(exc, OSError):
            raise out_path.OutputPathError(exc.filename or out, f"could not be written: {exc.strerror or exc}",
                                           "Check the path, the free space and the permissions, "
                                           "then export again") from exc
        raise
    if not deidentify:
        made = [out] if folder and created else []
        ct = (out if folder else out.parent) / "ct"
        made += [ct] if with_ct else []
        out_path.make_private(result.files, made)
    return result


def _export(inputs: ExportInputs, fmt: ExportFormat, out: Path, deidentify: bool, reviewed_csv: bool,
            uid_map: Mapping[str, str] | None, with_ct: bool, folder: bool) -> ExportResult:
    deid = Deidentifier(uid_map=uid_map) if deidentify else None
    if deid is not None and inputs.study.read_without_ai_reason:
        # the reason for a read without AI is the reader's free text: it may name the patient
        inputs = replace(inputs, study=replace(inputs.study, read_without_ai_reason=REASON_REMOVED))
        deid.report.entries.append(DeidEntry("report", "reason for the read without AI", "D"))
    left_out: list[str] = []
    plan = build_plan(inputs.study, inputs.volume, inputs.masks, _edited(inputs.decisions), inputs.comparisons,
                      inputs.followup)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnsignedExportWarning)
        if fmt in (ExportFormat.SR, ExportFormat.SEG, ExportFormat.PMAP):
            files = _dicom(inputs, plan, fmt, out, deid, left_out)
        elif fmt in (ExportFormat.PDF, ExportFormat.SC):
            files = _report(inputs, plan, fmt, out, deid, left_out)
        elif fmt is ExportFormat.CSV:
            files = [_csv(inputs.study, out, reviewed_csv, deid)]
        else:
            files = [_json(inputs, plan, out, deid)]
    if with_ct:
        files += write_ct(_source(inputs), (out if folder else out.parent) / "ct", deid)
    unsigned = [str(w.message) for w in caught if issubclass(w.category, UnsignedExportWarning)]
    for note in unsigned:  # re-issue for callers that watch warnings
        warnings.warn(note, UnsignedExportWarning, stacklevel=2)
    notes = tuple(unsigned + left_out)
    if deid is not None:
        report_path = out_path.deid_record_path(out, folder)  # beside its export, never shared
        deid.report.write(report_path)
        files.append(report_path)
    return ExportResult(tuple(files), notes, deid.report if deid else None,
                        dict(deid.uid_map) if deid else {})


def _dicom(inputs: ExportInputs, plan: ExportPlan, fmt: ExportFormat, out: Path,
           deid: Deidentifier | None, left_out: list[str]) -> list[Path]:
    study = inputs.study
    source = _source(inputs)
    objects: list[tuple[str, Dataset]] = []
    ids = plan.ids
    have_all_masks = bool(ids) and ids <= set(inputs.masks)
    if fmt is ExportFormat.SR and not ids:
        left_out.append("no SEG: the study has no accepted or reviewer-added nodule; the SR says "
                        "that no lung nodule is reported")
    elif fmt is ExportFormat.SR and not have_all_masks:
        left_out.append("no SEG: no nodule mask for finding(s) " + ", ".join(sorted(ids - set(inputs.masks)))
                        + "; the SR gives each nodule's region as 3D coordinates")
    seg = build_seg(plan, source, inputs.masks) if fmt is ExportFormat.SEG or (
        fmt is ExportFormat.SR and have_all_masks) else None
    saliency = inputs.saliency
    if fmt is ExportFormat.SR:  # only the maps the SR references: its AI findings' scores
        ai_reported = {n.finding_id for n in plan.nodules if not n.added_by_reviewer}
        saliency = {fid: v for fid, v in saliency.items() if fid in ai_reported}
    maps = build_parametric_maps(study, source, saliency) if fmt is not ExportFormat.SEG else {}
    if fmt is ExportFormat.PMAP and not maps:
        raise ExportError(study.study_instance_uid, "no finding has a saliency map",
                          "Run detection with saliency maps (not --no-saliency) and export again")
    if fmt is ExportFormat.SR:
        objects.append(("sr", build_sr(plan, source, seg, maps)))
    if seg is not None:
        objects.append(("seg", seg))
    objects += [(f"pm_{_safe(fid)}", ds) for fid, ds in maps.items()]
    folder = out.parent if (fmt is ExportFormat.SEG and out.suffix == ".dcm") else out
    return write_objects(objects, folder, deid, single=out if folder is not out else None)


def write_ct(source: SourceSeries, folder: Path, deid: Deidentifier | None) -> list[Path]:
    """The source CT slices (pixel data included), through the same de-identification table as
    the objects that reference them, so a de-identified SEG lies on the de-identified CT."""
    import pydicom

    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i, path in enumerate(source.volume.info.source_files):
        ct: Dataset = pydicom.dcmread(path)
        if deid is not None:
            ct = deid.apply(ct, "CT")
        target = folder / f"ct_{i + 1:04d}.dcm"
        ct.save_as(target, enforce_file_format=True)
        files.append(target)
    return files


def _source(inputs: ExportInputs) -> SourceSeries:
    study = inputs.study
    if inputs.volume is None:
        raise ExportError(study.study_instance_uid, "DICOM export needs the source scan",
                          "Open the scan (or give the study's scan path) and export again")
    return load_source(inputs.volume, study.scan_path or study.study_instance_uid)


def _report(inputs: ExportInputs, plan: ExportPlan, fmt: ExportFormat, out: Path,
            deid: Deidentifier | None, left_out: list[str]) -> list[Path]:
    from viewer.export.report_export import write_pdf_report, write_secondary_captures

    source = _source(inputs)
    if fmt is ExportFormat.PDF:
        if not plan.nodules:
            left_out.append("the report says that no lung nodule is reported; it has no key images")
        return write_pdf_report(plan, source, inputs.saliency, out, deid)
    if not plan.nodules:
        raise ExportError(inputs.study.study_instance_uid, "has no reported nodule, so no key image",
                          "Export the SR or the PDF report, which say that no nodule is reported")
    return write_secondary_captures(plan, source, inputs.saliency, out, deid)


def write_objects(objects: Sequence[tuple[str, Dataset]], folder: Path, deid: Deidentifier | None,
                  single: Path | None = None) -> list[Path]:
    """Write datasets as ``folder/<name>.dcm`` (or the one file ``single``), de-identified first
    when ``deid`` is given."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for name, ds in objects:
        if deid is not None:
            ds = deid.apply(ds, name)
        path = single if single is not None else folder / f"{name}.dcm"
        ds.save_as(path, enforce_file_format=True)
        files.append(path)
    return files


def _edited(decisions: Sequence[DecisionRecord]) -> set[str]:
    """Findings with an EDITED decision that still holds (not taken back by a RESET)."""
    from viewer.review.derive import effective

    return {d.finding_id for d in effective(list(decisions)) if d.decision is Decision.EDITED}


def _csv(study: ReviewedStudy, out: Path, reviewed: bool, deid: Deidentifier | None) -> Path:
    uid = deid.new_uid(study.series_instance_uid) if deid else None
    rows = luna_csv.reviewed_rows(study, uid) if reviewed else luna_csv.candidate_rows(study, uid)
    return luna_csv.write_csv(out, rows, reviewed)


def _json(inputs: ExportInputs, plan: ExportPlan, out: Path, deid: Deidentifier | None) -> Path:
    doc = json_export.export_document(inputs.study, inputs.decisions, inputs.audit, plan=plan,
                                      clinical=dict(inputs.clinical) if inputs.clinical else None)
    if deid is not None:
        doc = json_export.deidentified(doc, deid)
    return json_export.write_json(out, doc)


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:48]
