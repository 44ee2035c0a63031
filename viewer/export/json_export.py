"""The JSON export: everything about one reviewed study in one versioned document.

Schema ``nodulelens.export`` version 1 (resources/schemas/export-v1.json; README documents it):
study identity and sign-off, the model, every finding (AI and reviewer-added, whatever its status)
with geometry, score, measurements, type, risk, Lung-RADS, the reviewer's current decision and
the nodule's tracking UID (the one in the SR and SEG), the full decision history and audit trail,
and ``report``: what the SR reports (exam items, and per reported nodule the SR's measurement
list, its SEG segment, key slice and axes, and its comparison with a prior or null), and the
exam's ``comparison`` with its prior (prior study and date, category basis, resolved nodules) or
null. On a follow-up exam a nodule's tracking UID is the one it had on its first exam.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any

from inference.domain import analysis_codec
from viewer.export import identity
from viewer.export.deid import DeidEntry, Deidentifier
from viewer.export.luna_csv import diameter_of
from viewer.export.plan import Comparison, ExportPlan, PlannedNodule, build_plan
from viewer.review.sign_off import is_signed, report_state, status_line, undecided_reported
from viewer.export.sr_groups import nodule_values, sr_tracking_identifier
from viewer.review.model import AuditEntry, DecisionRecord, FindingState, ReviewedStudy

SCHEMA = "nodulelens.export"
VERSION = 1


def export_document(study: ReviewedStudy, decisions: Sequence[DecisionRecord] = (),
                    audit: Sequence[AuditEntry] = (), exported_at: datetime | None = None,
                    plan: ExportPlan | None = None, clinical: dict | None = None) -> dict:
    """``plan``: the export plan (built here when not given); ``clinical``: the study's clinical inputs
    and per-finding Brock risks (:func:`viewer.review.clinical_risk.clinical_export`), exported as
    ``"clinical"`` when given."""
    exported_at = exported_at or datetime.now(timezone.utc)
    m = study.model
    plan = plan or build_plan(study)
    doc = {
        "schema": SCHEMA,
        "version": VERSION,
        "exported_at": _time(exported_at),
        "software": {"name": identity.MANUFACTURER, "version": identity.software_version()},
        "study": {
            "study_instance_uid": study.study_instance_uid,
            "series_instance_uid": study.series_instance_uid,
            "scan_path": study.scan_path,
            "status": study.status.value,
            "signed_off": is_signed(study),
            "report_state": report_state(study).value,
            "status_line": status_line(study, names=False),
            "undecided_findings": list(undecided_reported(study)),
            "read_mode": study.read_mode.value if study.read_mode else None,
            "read_without_ai_reason": study.read_without_ai_reason,
            "reviewer": study.reviewer,
            "signed_off_by": study.signed_off_by,
            "signed_off_at": _time(study.signed_off_at),
            "institution": study.institution,
        },
        "model": None if m is None else {
            "id": m.model_id, "name": m.name, "version": m.version,
            "manifest_sha256": m.manifest_sha256, "operating_threshold": m.operating_threshold,
        },
        "findings": [_finding(plan, s) for s in study.findings],
        "decisions": [_decision(d) for d in decisions],
        "audit": [_audit(a) for a in audit],
        "report": report_section(plan),
    }
    if clinical is not None:
        doc["clinical"] = clinical
    return doc


def report_section(plan: ExportPlan) -> dict:
    """What the SR reports, as the SR says it: exam items and one entry per reported nodule with
    the SR's fixed measurement list (None where a value does not apply) and its comparison with a
    prior (None where none was compared)."""
    return {
        "exam_lung_rads": _enum(plan.exam_lung_rads),
        "exam_lung_rads_reason": plan.exam_lung_rads_reason,
        "management": plan.management,
        "nodules_reported": len(plan.nodules),
        "ai_findings_reviewed": plan.ai_reviewed,
        "ai_findings_rejected": plan.ai_rejected,
        "nodules": [_reported(plan, n) for n in plan.nodules],
        "comparison": _exam_comparison(plan),
    }


def _date(da: str) -> str:
    return f"{da[:4]}-{da[4:6]}-{da[6:]}" if len(da) == 8 else da


def _exam_comparison(plan: ExportPlan) -> dict | None:
    f = plan.followup
    if f is None:
        return None
    from inference.longitudinal.report import comparison_to_dict

    return {
        "prior_study_uid": f.prior_study_uid, "prior_study_date": _date(f.prior_study_date),
        "exam_lung_rads_at_comparison": _enum(f.lung_rads), "reason_at_comparison": f.reason,
        "resolved": [comparison_to_dict(r) for r in f.resolved],
    }


def _nodule_comparison(c: Comparison | None) -> dict | None:
    """A nodule's comparison: the prior's size and date, change, doubling time, category, reason."""
    if c is None:
        return None
    r = c.result
    prior = r.prior if r is not None else None
    return {
        "status": r.status.value if r is not None else None,
        "prior_study_date": c.prior_study_date, "prior_long_axis_mm": c.prior_long_axis_mm,
        "prior_mean_diameter_mm": None if prior is None else round(prior.mean_diameter_mm, 2),
        "prior_volume_mm3": None if prior is None else round(prior.volume_mm3, 1),
        "prior_finding_id": r.prior_key if r is not None else None,
        "interval_days": r.interval_days if r is not None else None,
        "change_mm": c.change_mm,
        "volume_change_pct": None if r is None or r.volume_change_pct is None else round(r.volume_change_pct, 1),
        "volume_doubling_days": c.volume_doubling_days,
        "volume_doubling_note": r.doubling_time_note if r is not None else "",
        "slow_growth": bool(r.slow_growth) if r is not None else False,
        "category": c.category.value, "lung_rads": _enum(c.lung_rads), "reason": c.reason,
        "management": c.management,
    }


def _reported(plan: ExportPlan, n: PlannedNodule) -> dict:
    c = n.comparison
    decision = "added" if n.added_by_reviewer else ("edited" if n.finding_id in plan.edited else "accepted")
    return {
        "finding_id": n.finding_id,
        "number": n.number,
        "segment_number": n.segment_number,
        "tracking_uid": n.tracking_uid,
        "tracking_identifier": sr_tracking_identifier(n),
        "label": n.label,
        "source": "reviewer" if n.added_by_reviewer else "ai",
        "decision": decision,
        "nodule_type": _enum(getattr(n.analysis, "nodule_type", None)),
        "lung_rads": _enum(n.lung_rads),
        "side": _enum(getattr(n.analysis, "side", None)),
        "zone": _enum(getattr(n.analysis, "zone", None)),
        "measurements": nodule_values(n),
        "display_colour_rgb": list(n.colour_rgb),
        "key_slice_index": n.key.z,
        "long_axis_mm_lps": [list(p) for p in n.key.long_axis],
        "short_axis_mm_lps": [list(p) for p in n.key.short_axis],
        "comparison": _nodule_comparison(c),
    }


def write_json(path: str | Path, document: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _finding(plan: ExportPlan, s: FindingState) -> dict:
    f = s.finding
    planned = plan.nodule(f.finding_id)
    tracked = plan.followup.tracking_uids if plan.followup is not None else {}
    uid = planned.tracking_uid if planned is not None else (
        tracked.get(f.finding_id) or identity.tracking_uid(plan.study, f.finding_id))
    return {
        "id": f.finding_id,
        "source": f.source.value,
        "status": s.status.value,
        "reason": None if s.reason is None else s.reason.value,
        "comment": s.comment,
        "decided_by": s.decided_by,
        "decided_at": _time(s.decided_at),
        "tracking_uid": uid,
        "center_mm": list(f.center),
        "box_mm": {"lo": list(f.box.lo), "hi": list(f.box.hi)},
        "score": f.score,
        "diameter_mm": diameter_of(f),
        "analysis": None if f.analysis is None else analysis_codec.export_view(f.analysis),
    }


def _decision(d: DecisionRecord) -> dict:
    return {"finding_id": d.finding_id, "decision": d.decision.value, "reviewer": d.reviewer,
            "at": _time(d.at), "reason": None if d.reason is None else d.reason.value,
            "comment": d.comment}


def _audit(a: AuditEntry) -> dict:
    try:
        detail = json.loads(a.detail) if a.detail else {}
    except json.JSONDecodeError:
        detail = {"text": a.detail}
    return {"seq": a.seq, "at": _time(a.at), "actor": a.actor, "action": a.action,
            "finding_id": a.finding_id, "detail": detail}


def _enum(v: Any) -> Any:
    return v.value if isinstance(v, Enum) else v


def _time(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(timezone.utc).isoformat()


def deidentified(doc: dict, deid: Deidentifier) -> dict:
    """The document with UIDs remapped (deid's table), no scan path and people as "reviewer N"."""
    people: dict[str, str] = {}

    def person(name: str) -> str:
        if not name:
            return name
        return people.setdefault(name, f"reviewer {len(people) + 1}")

    out = json.loads(json.dumps(doc))
    s = out["study"]
    for key in ("study_instance_uid", "series_instance_uid"):
        if s[key]:
            s[key] = deid.new_uid(s[key])
            deid.report.entries.append(DeidEntry("JSON", f"study.{key}", "U"))
    for key, action in (("scan_path", "X"), ("institution", "X")):
        if s[key]:
            s[key] = ""
            deid.report.entries.append(DeidEntry("JSON", f"study.{key}", action))
    for key in ("reviewer", "signed_off_by"):
        s[key] = person(s[key])
    for f in out["findings"]:
        f["decided_by"] = person(f["decided_by"])
        f["tracking_uid"] = deid.new_uid(f["tracking_uid"])
        f["comment"] = ""
    _remap_report(out, deid)
    for d in out["decisions"]:
        d["reviewer"] = person(d["reviewer"])
        d["comment"] = ""
    for a in out["audit"]:
        a["actor"] = person(a["actor"])
        a["detail"] = {}
    _deidentify_clinical(out, person)
    if people:
        deid.report.entries.append(DeidEntry("JSON", "reviewer names", "D"))
    deid.report.entries.append(DeidEntry("JSON", "comments and audit details", "X"))
    return out


def _deidentify_clinical(doc: dict, person: Any) -> None:
    """The reader who entered the clinical inputs becomes "reviewer N"; age, sex and history stay
    (DICOM PS3.15's "retain patient characteristics" option: they are what the risk is about)."""
    if doc.get("clinical"):
        doc["clinical"]["entered_by"] = person(doc["clinical"].get("entered_by", ""))


_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def _undate(text: str) -> str:
    return _ISO_DATE.sub("[date removed]", text or "")


def _remap_report(doc: dict, deid: Deidentifier) -> None:
    """Tracking and prior study UIDs remapped; the prior's dates removed (intervals in days stay,
    so doubling times and "stable for 24 months" keep their meaning)."""
    report = doc.get("report", {})
    for key in ("exam_lung_rads_reason", "management"):
        if key in report:
            report[key] = _undate(report[key])
    for n in report.get("nodules", []):
        n["tracking_uid"] = deid.new_uid(n["tracking_uid"])
        c = n.get("comparison")
        if c:
            c["prior_study_date"] = None
            c["reason"], c["management"] = _undate(c["reason"]), _undate(c["management"])
    exam = report.get("comparison")
    if exam:
        exam["prior_study_uid"] = deid.new_uid(exam["prior_study_uid"])
        exam["prior_study_date"] = None
        exam["reason_at_comparison"] = _undate(exam["reason_at_comparison"])
        for r in exam["resolved"]:
            r["prior_date"], r["history"] = None, []
            r["reason"], r["management"] = _undate(r["reason"]), _undate(r["management"])
        deid.report.entries.append(DeidEntry("JSON", "report.comparison (prior UID and dates)", "U"))
