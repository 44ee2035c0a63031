"""Gathering what an export needs from the review store: the study, its scan, masks, saliency.

Used by ``nodulelens export`` and the export dialog. A scan moved or deleted after review is
reported with :class:`SourceFilesMissing` naming it, before anything is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from viewer.export.errors import MissingAnalysis, SourceFilesMissing, SourceMismatch
from viewer.export.exporter import ExportFormat, ExportInputs
from viewer.export.grid import crop_offset


def inputs_from_store(store, study_key: str, fmt: ExportFormat) -> tuple[ExportInputs, list[str]]:
    """(inputs, notes): notes say what was left out (e.g. a SEG when a nodule has no mask)."""
    study = store.reviewed_study(study_key)
    uid = study.series_instance_uid
    decisions = store.decisions(uid)
    audit = store.audit_log(uid)
    notes: list[str] = []
    if fmt not in (ExportFormat.SR, ExportFormat.SEG, ExportFormat.PMAP):
        from viewer.review.clinical_risk import clinical_export
        return ExportInputs(study, decisions=decisions, audit=audit,
                            clinical=clinical_export(store, study)), notes
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
    if fmt in (ExportFormat.SR, ExportFormat.SEG):
        from viewer.export.masks import analysis_masks
        try:
            masks = analysis_masks(study, volume)
        except MissingAnalysis as exc:
            if fmt is ExportFormat.SEG:
                raise
            notes.append(f"nodule segmentation failed: {exc}")
    saliency = {}
    if fmt in (ExportFormat.SR, ExportFormat.PMAP):
        from viewer.export.masks import saliency_crops
        paths = {s.finding.finding_id: s.saliency_path for s in store.stored_findings(uid)
                 if s.saliency_path}
        missing = [fid for fid, p in paths.items() if not Path(p).is_file()]
        for fid in missing:
            notes.append(f"saliency file of finding {fid} is missing ({paths.pop(fid)}): no map for it")
        for fid, crop in saliency_crops(paths).items():
            try:
                crop_offset(crop, volume, f"saliency of finding {fid}")
            except MissingAnalysis as exc:
                notes.append(f"no map for finding {fid}: {exc}")
                continue
            saliency[fid] = crop
    return ExportInputs(study, volume, masks, saliency, decisions, audit), notes


def export_from_store(store, study_key: str, fmt, out, *, deidentify: bool = False,
                      reviewed_csv: bool = False, actor: str = "") -> tuple[Any, list[str]]:
    """Export one study of the store and record it in the audit trail: (result, warnings).

    The one path the CLI and the GUI's export dialog both take."""
    import warnings as _warnings

    from viewer.export.exporter import export_study
    from viewer.export.sr import UnsignedExportWarning

    fmt = fmt if isinstance(fmt, ExportFormat) else ExportFormat.parse(fmt)
    inputs, notes = inputs_from_store(store, study_key, fmt)
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore", UnsignedExportWarning)  # returned in result.warnings
        result = export_study(inputs, fmt, out, deidentify=deidentify, reviewed_csv=reviewed_csv)
    study = inputs.study
    store.log("export", actor or study.signed_off_by or study.reviewer or "export",
              study.series_instance_uid,
              detail={"format": fmt.value, "deidentified": bool(deidentify),
                      "files": [str(p) for p in result.files]})
    return result, notes + list(result.warnings)
