"""Read models derived from store rows: a reviewed study, the worklist and the reader-study log.

Pure functions over rows and records; every SQL query is in :mod:`viewer.review.store`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from inference.domain.finding import ModelInfo
from inference.domain.nodule import LungRads
from viewer.review import derive
from viewer.review.derive import StoredFinding
from viewer.review.model import Decision, DecisionRecord, ReviewedStudy, StudyStatus
from viewer.review.sign_off import read_mode_of

#: the decisions that decide a finding (for the reader-study times)
DECIDING = (Decision.ACCEPTED, Decision.REJECTED, Decision.EDITED, Decision.ADDED)


def reviewed_study(row: dict, decisions: list[DecisionRecord], actions: list[dict],
                   stored: list[StoredFinding]) -> ReviewedStudy:
    """A series' reviewed state from its store row, decisions, audit actions and stored findings."""
    uid = row["series_uid"]
    status = derive.study_status([a["action"] for a in actions], len(decisions))
    sign = next((a for a in reversed(actions) if a["action"] == "sign_off"), None)
    signed = status is StudyStatus.SIGNED_OFF and sign is not None
    model = None
    if row["model_id"]:
        model = ModelInfo(model_id=row["model_id"], version=row["model_version"] or "",
                          manifest_sha256=row["model_sha256"] or "", name=row["model_name"] or "",
                          operating_threshold=row["operating_threshold"])
    signer = sign["actor"] if signed and sign is not None else ""
    signed_at = datetime.fromisoformat(sign["at"]) if signed and sign is not None else None
    reviewer = signer or (decisions[-1].reviewer if decisions else "")
    mode, reason = read_mode_of(sign.get("detail")) if signed and sign is not None else (None, "")
    return ReviewedStudy(
        study_instance_uid=row["study_uid"], series_instance_uid=uid, scan_path=row["scan_path"],
        status=status, findings=derive.fold(stored, decisions, first_shown(actions)),
        model=model, reviewer=reviewer, signed_off_by=signer, signed_off_at=signed_at,
        read_mode=mode, read_without_ai_reason=reason)


def first_shown(actions: list[dict]) -> dict[str, datetime]:
    out: dict[str, datetime] = {}
    for a in actions:
        if a["action"] == "shown" and a["finding_id"] and a["finding_id"] not in out:
            out[a["finding_id"]] = datetime.fromisoformat(a["at"])
    return out


@dataclass(frozen=True, slots=True)
class WorklistRow:
    study_uid: str
    series_uid: str
    scan_path: str
    patient_id: str
    description: str
    screen_state: str  # "not screened", "screened", "failed"
    screen_error: str
    flagged: bool
    highest_lung_rads: LungRads | None
    highest_risk: float | None
    n_findings: int
    status: StudyStatus
    reviewer: str
    warnings: tuple[str, ...] = ()  # the loader's and the worker's warnings stored with the screening

    def tooltip(self) -> str:
        """The worklist row's tooltip: the failure, or the scan path and every stored warning."""
        if self.screen_error:
            return self.screen_error
        return "\n".join([self.scan_path, *(f"warning: {w}" for w in self.warnings)])


def warnings_of(stored: str | None) -> tuple[str, ...]:
    """The stored JSON list of warnings (``series.screen_warnings``) as a tuple."""
    try:
        value = json.loads(stored or "[]")
    except json.JSONDecodeError:
        return (str(stored),)
    return tuple(str(w) for w in value) if isinstance(value, list) else (str(value),)


def worklist(rows: list[dict]) -> list[WorklistRow]:
    """Worklist rows, flagged and most suspicious first, from :meth:`Store.worklist_rows`' rows
    (a series row plus ``patient_id``, ``n_decisions``, ``last_reviewer``, ``opened`` and
    ``last_sign`` / ``last_sign_actor``: the latest sign-off or reopen and who did it)."""
    out = []
    for r in rows:
        actions = (["open"] if r["opened"] else []) + ([r["last_sign"]] if r["last_sign"] else [])
        status = derive.study_status(actions, r["n_decisions"])
        reviewer = ""
        if status is StudyStatus.SIGNED_OFF:
            reviewer = r["last_sign_actor"]
        elif r["n_decisions"]:
            reviewer = r["last_reviewer"]
        rads = r["highest_lung_rads"]
        out.append(WorklistRow(
            study_uid=r["study_uid"], series_uid=r["series_uid"], scan_path=r["scan_path"],
            patient_id=r["patient_id"], description=r["description"], screen_state=r["screen_state"],
            screen_error=r["screen_error"], flagged=bool(r["flagged"]),
            highest_lung_rads=LungRads(rads) if rads else None, highest_risk=r["highest_risk"],
            n_findings=r["n_findings"], status=status, reviewer=reviewer,
            warnings=warnings_of(r.get("screen_warnings"))))
    out.sort(key=lambda w: (not w.flagged, -(w.highest_lung_rads.rank if w.highest_lung_rads else -1),
                            -(w.highest_risk or 0.0), w.patient_id, w.series_uid))
    return out


@dataclass(frozen=True, slots=True)
class ReaderStudyEntry:
    """When a finding was first shown to a reviewer and when it was first and last decided."""

    series_uid: str
    finding_id: str
    first_shown_at: datetime | None
    first_decided_at: datetime | None
    final_decided_at: datetime | None
    final_status: str


def reader_study_log(study: ReviewedStudy, decisions: list[DecisionRecord]) -> list[ReaderStudyEntry]:
    """Per finding of ``study``: when it was first shown, first decided and finally decided."""
    out = []
    for fs in study.findings:
        fid = fs.finding.finding_id
        times = [d.at for d in decisions if d.finding_id == fid and d.decision in DECIDING]
        out.append(ReaderStudyEntry(study.series_instance_uid, fid, fs.first_shown_at,
                                    min(times) if times else None, fs.decided_at, fs.status.value))
    return out
