"""Views derived from the store: a reviewed study, the worklist and the reader-study log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from inference.detection.finding import ModelInfo
from viewer.review import derive
from viewer.review.model import ReviewedStudy, StudyStatus

if TYPE_CHECKING:
    from viewer.review.store import Store


def reviewed_study(store: "Store", row: dict) -> ReviewedStudy:
    uid = row["series_uid"]
    decisions = store.decisions(uid)
    actions = store.series_actions(uid)
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
    return ReviewedStudy(
        study_instance_uid=row["study_uid"], series_instance_uid=uid, scan_path=row["scan_path"],
        status=status, findings=derive.fold(store.stored_findings(uid), decisions, first_shown(actions)),
        model=model, reviewer=reviewer, signed_off_by=signer, signed_off_at=signed_at)


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
    highest_lung_rads: str | None
    highest_risk: float | None
    n_findings: int
    status: StudyStatus
    reviewer: str


def worklist(store: "Store") -> list[WorklistRow]:
    """One row per stored series, flagged and most suspicious first."""
    rows = store.query(
        "SELECT s.*, st.patient_id AS patient_id, "
        " (SELECT COUNT(*) FROM decisions d WHERE d.series_uid = s.series_uid) AS n_decisions "
        "FROM series s JOIN studies st ON st.study_uid = s.study_uid")
    out = []
    for r in rows:
        actions = store.query("SELECT action, actor FROM audit WHERE series_uid=? AND action IN "
                              "('open', 'sign_off', 'reopen') ORDER BY seq", (r["series_uid"],))
        status = derive.study_status([a["action"] for a in actions], r["n_decisions"])
        reviewer = ""
        if status is StudyStatus.SIGNED_OFF:
            reviewer = [a["actor"] for a in actions if a["action"] == "sign_off"][-1]
        elif r["n_decisions"]:
            reviewer = store.query("SELECT reviewer FROM decisions WHERE series_uid=? ORDER BY seq "
                                   "DESC LIMIT 1", (r["series_uid"],))[0]["reviewer"]
        out.append(WorklistRow(
            study_uid=r["study_uid"], series_uid=r["series_uid"], scan_path=r["scan_path"],
            patient_id=r["patient_id"], description=r["description"], screen_state=r["screen_state"],
            screen_error=r["screen_error"], flagged=bool(r["flagged"]),
            highest_lung_rads=r["highest_lung_rads"], highest_risk=r["highest_risk"],
            n_findings=r["n_findings"], status=status, reviewer=reviewer))
    from viewer.review.codec import lung_rads_rank
    out.sort(key=lambda w: (not w.flagged, -lung_rads_rank(w.highest_lung_rads),
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


def reader_study_log(store: "Store", uid_or_path: str) -> list[ReaderStudyEntry]:
    study = store.reviewed_study(uid_or_path)
    decisions = store.decisions(study.series_instance_uid)
    out = []
    for fs in study.findings:
        fid = fs.finding.finding_id
        times = [d.at for d in decisions if d.finding_id == fid and d.decision.value
                 in ("accepted", "rejected", "edited", "added")]
        out.append(ReaderStudyEntry(study.series_instance_uid, fid, fs.first_shown_at,
                                    min(times) if times else None, fs.decided_at, fs.status.value))
    return out
