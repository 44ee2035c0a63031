"""Gathering what an export needs from the review store: the study, its scan, masks, saliency.

Used by ``nodulelens export`` and the export dialog. A scan moved or deleted after review is
reported with :class:`SourceFilesMissing` naming it, before anything is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from viewer.export.errors import MissingAnalysis, SourceFilesMissing, SourceMismatch
from viewer.export.exporter import DICOM_FORMATS, ExportFormat, ExportInputs
from viewer.export.grid import crop_offset
from viewer.export.out_path import check_output

if TYPE_CHECKING:
    from viewer.review.store import Store


def inputs_from_store(store: Store, study_key: str, fmt: ExportFormat, need_scan: bool = False
                      ) -> tuple[ExportInputs, list[str]]:
    """(inputs, notes): notes say what was left out (e.g. a SEG when a nodule has no mask).
    ``need_scan`` loads the scan also for formats that do not reference it (``--with-ct``)."""
    study = store.reviewed_study(study_key)
    uid = study.series_instance_uid
    decisions = store.decisions(uid)
    audit = store.audit_log(uid)
    notes: list[str] = []
    from viewer.review.clinical_risk import clinical_export

    from viewer.export.followup_inputs import comparison_inputs

    clinical = clinical_export(store, study)
    comparisons, followup = comparison_inputs(store, uid)  # computed once: the plan carries it
    if fmt not in DICOM_FORMATS and not need_scan:
        return ExportInputs(study, decisions=decisions, audit=audit, clinical=clinical,
                            comparisons=comparisons, followup=followup), notes
    scan = Path(study.scan_path)
    if not study.scan_path or not scan.exists():
        raise SourceFilesMissing(study.study_instance_uid, (study.scan_path or "(no scan path)",))
    from inference.imaging import load

    volume = load(scan, series_uid=uid)
    expected = int(store.series_row(uid).get("n_slices") or 0)
    if expected and volume.shape[0] != expected:
        raise SourceMismatch(scan, f"holds {volume.shape[0]} slices of the series, but {expected} "
                             "were reviewed", "Restore the missing files and export again")
    masks = {}
    if fmt in (ExportFormat.SR, ExportFormat.SEG, ExportFormat.PDF, ExportFormat.SC):
        from viewer.export.masks import analysis_masks
        try:
            masks = analysis_masks(study, volume)
        except MissingAnalysis as exc:
            if fmt is ExportFormat.SEG:
                raise
            notes.append(f"nodule segmentation failed: {exc}")
    saliency = {}
    if fmt in (ExportFormat.SR, ExportFormat.PMAP, ExportFormat.PDF, ExportFormat.SC):
        from viewer.export.masks import saliency_crops
        stored = [s for s in store.stored_findings(uid) if s.saliency_path]
        paths = {s.finding.finding_id: s.saliency_path for s in stored}
        models = {s.finding.finding_id: s.model for s in stored}
        missing = [fid for fid, p in paths.items() if not Path(p).is_file()]
        for fid in missing:
            notes.append(f"saliency file of finding {fid} is missing ({paths.pop(fid)}): no map for it")
        for fid, crop in saliency_crops(paths, models).items():
            try:
                crop_offset(crop.volume, volume, f"saliency of finding {fid}")
            except MissingAnalysis as exc:
                notes.append(f"no map for finding {fid}: {exc}")
                continue
            saliency[fid] = crop
    return ExportInputs(study, volume, masks, saliency, decisions, audit, clinical=clinical,
                        comparisons=comparisons, followup=followup), notes


def export_from_store(store: Store, study_key: str, fmt: ExportFormat | str, out: str | Path, *,
                      deidentify: bool = False, reviewed_csv: bool = False, actor: str = "",
                      with_ct: bool = False, force: bool = False) -> tuple[Any, list[str]]:
    """Export one study of the store and record it in the audit trail: (result, warnings).

    The one path the CLI and the GUI's export dialog both take. A de-identified export continues
    the study's persistent UID map (``viewer.review.deid_map``) and adds what it issued to it."""
    import warnings as _warnings

    from viewer.export.exporter import export_study
    from viewer.export.sr import UnsignedExportWarning

    from viewer.review import deid_map

    fmt = fmt if isinstance(fmt, ExportFormat) else ExportFormat.parse(fmt)
    check_output(fmt.value, out, force=force, deidentify=deidentify)  # before the scan is read
    inputs, notes = inputs_from_store(store, study_key, fmt, need_scan=with_ct)
    study = inputs.study
    known = deid_map.uid_map(store, study.study_instance_uid) if deidentify else None
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore", UnsignedExportWarning)  # returned in result.warnings
        result = export_study(inputs, fmt, out, deidentify=deidentify, reviewed_csv=reviewed_csv,
                              uid_map=known, with_ct=with_ct, force=force)
    if deidentify:
        deid_map.remember(store, study.study_instance_uid, result.uid_map)
    store.log("export", actor or study.signed_off_by or study.reviewer or "export",
              study.series_instance_uid,
              detail={"format": fmt.value, "deidentified": bool(deidentify),
                      "files": [str(p) for p in result.files]})
    return result, notes + list(result.warnings)
