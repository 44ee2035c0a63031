"""Current state from history: fold a series' append-only decisions into finding states.

A RESET (undo) takes its target out of the history; a redo appends a fresh copy of the decision
it restores. What remains is applied in order: accept/reject set the status, an edit replaces the
geometry and measurements (and accepts), an add creates a reviewer finding, a comment sets text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from inference.domain.finding import Finding, ModelInfo
from viewer.review import codec
from viewer.review.model import (
    Decision, DecisionRecord, FindingState, FindingStatus, RejectReason, StudyStatus,
)


@dataclass(frozen=True, slots=True)
class StoredFinding:
    """A findings-table row as first stored (before any edit)."""

    finding: Finding
    saliency_path: str = ""
    model_id: str = ""
    model_version: str = ""
    model_sha256: str = ""

    @property
    def model(self) -> ModelInfo | None:
        """The model that found it (None for a reviewer's finding): a saliency file from before
        methods were recorded is labelled by this card's method if the card is unchanged."""
        return ModelInfo(self.model_id, self.model_version, self.model_sha256) if self.model_id else None


def effective(decisions: list[DecisionRecord]) -> list[DecisionRecord]:
    """The decisions that still hold: RESET rows and the decisions they undo are dropped."""
    undone = {d.undoes for d in decisions if d.decision is Decision.RESET}
    return [d for d in decisions if d.decision is not Decision.RESET and d.seq not in undone]


def fold(stored: list[StoredFinding], decisions: list[DecisionRecord],
         first_shown: dict[str, datetime]) -> tuple[FindingState, ...]:
    """Finding states after all effective decisions, AI findings first (by score), then added."""
    by_id = {s.finding.finding_id: s for s in stored}
    added: set[str] = set()
    state: dict[str, dict] = {
        fid: {"finding": s.finding, "status": FindingStatus.PENDING, "reason": None, "comment": "",
              "by": "", "at": None}
        for fid, s in by_id.items()
    }
    for d in effective(decisions):
        st = state.get(d.finding_id)
        if st is None:
            continue
        new = json.loads(d.new_value) if d.new_value else {}
        if d.decision is Decision.ADDED:
            added.add(d.finding_id)
        if d.decision in (Decision.EDITED, Decision.ADDED) and "geometry" in new:
            st["finding"] = _with_geometry(st["finding"], new)
        if d.decision in (Decision.ACCEPTED, Decision.EDITED, Decision.ADDED):
            st.update(status=FindingStatus.ACCEPTED, reason=None, by=d.reviewer, at=d.at)
        elif d.decision is Decision.REJECTED:
            st.update(status=FindingStatus.REJECTED, reason=d.reason, by=d.reviewer, at=d.at)
            if d.comment:
                st["comment"] = d.comment
        elif d.decision is Decision.COMMENTED:
            st["comment"] = d.comment
    out = []
    for fid, st in state.items():
        if st["finding"].source.value == "reviewer" and fid not in added:
            continue  # a reviewer-added finding whose ADDED was undone
        out.append(FindingState(finding=st["finding"], status=st["status"], reason=st["reason"],
                                comment=st["comment"], decided_by=st["by"], decided_at=st["at"],
                                first_shown_at=first_shown.get(fid)))
    out.sort(key=lambda s: (s.finding.source.value != "ai", -s.finding.score, s.finding.finding_id))
    return tuple(out)


def study_status(actions: list[str], n_decisions: int) -> StudyStatus:
    """From the audit actions of a series (in order) and its number of decisions."""
    last = next((a for a in reversed(actions) if a in ("sign_off", "reopen")), None)
    if last == "sign_off":
        return StudyStatus.SIGNED_OFF
    if last == "reopen" or n_decisions or "open" in actions:
        return StudyStatus.IN_REVIEW
    return StudyStatus.NEW


def state_value(fs: FindingState | None) -> dict:
    """JSON-ready value of a finding's state, for a decision's previous/new value columns."""
    if fs is None:
        return {"exists": False}
    return {"status": fs.status.value, "reason": fs.reason.value if fs.reason else None,
            "comment": fs.comment, **geometry_value(fs.finding)}


def geometry_value(f: Finding) -> dict:
    return {"geometry": json.loads(codec.geometry_json(f)), "diameter_mm": f.diameter_mm,
            "analysis": codec.analysis_value(f.analysis)}


def _with_geometry(f: Finding, new: dict) -> Finding:
    center, box = codec.parse_geometry(json.dumps(new["geometry"]))
    return f.evolve(center=center, box=box, diameter_mm=new.get("diameter_mm"),
                    analysis=codec.parse_analysis_value(new.get("analysis")))


def parse_reason(value: str | None) -> RejectReason | None:
    return RejectReason(value) if value else None
