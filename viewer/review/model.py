"""Review domain: decisions (append-only), the state derived from them, and a reviewed study.

These are the objects the store persists, the GUI shows and the exporters read. Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from inference.domain.finding import Finding, ModelInfo


class Decision(Enum):
    """One reviewer action on one finding (a row in the append-only decisions table)."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    EDITED = "edited"  # box moved/resized; the finding is re-measured
    ADDED = "added"  # a nodule the AI missed, added by the reviewer
    COMMENTED = "commented"
    RESET = "reset"  # undo of an earlier decision: back to the state before it


class FindingStatus(Enum):
    """The current state of a finding, derived from its decisions."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class RejectReason(Enum):
    VESSEL = "vessel"
    SCAR_FIBROSIS = "scar/fibrosis"
    CALCIFIED_GRANULOMA = "calcified granuloma"
    ARTEFACT = "artefact"
    LYMPH_NODE = "lymph node"
    OTHER = "other"


class StudyStatus(Enum):
    NEW = "new"
    IN_REVIEW = "in review"
    SIGNED_OFF = "signed off"


class ReadMode(Enum):
    """How a signed-off study was read: with the current model's detection, or explicitly without
    AI (audited with the reader's reason)."""

    WITH_AI = "with AI"
    WITHOUT_AI = "without AI"


class DetectionState(Enum):
    """What detection the store holds for a series, judged against the model in use now."""

    CURRENT = "detected by the current model"
    OTHER_MODEL = "detected by another model"
    FAILED = "detection failed"
    NONE = "detection has not run"


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One appended decision. ``at`` is timezone-aware UTC."""

    finding_id: str
    decision: Decision
    reviewer: str
    at: datetime
    reason: RejectReason | None = None
    comment: str = ""
    #: position in the store's append-only decisions table (0 before it is committed)
    seq: int = 0
    series_instance_uid: str = ""
    #: JSON of the finding's state before and after this decision
    previous_value: str = ""
    new_value: str = ""
    #: for RESET (undo): the ``seq`` of the decision it takes back
    undoes: int | None = None

    def __post_init__(self) -> None:
        if self.decision is Decision.RESET and self.undoes is None and self.seq:
            raise ValueError(f"a stored RESET of finding {self.finding_id} must name what it undoes")
        if not self.reviewer.strip():
            raise ValueError("a decision needs a reviewer")
        if self.at.tzinfo is None:
            raise ValueError("decision times must be timezone-aware (UTC)")
        if self.decision is Decision.REJECTED and self.reason is None:
            raise ValueError(f"rejecting finding {self.finding_id} needs a reason")


@dataclass(frozen=True, slots=True)
class FindingState:
    """A finding as it stands after all its decisions."""

    finding: Finding  # current geometry, measurements and analysis (after edits)
    status: FindingStatus
    reason: RejectReason | None = None
    comment: str = ""
    decided_by: str = ""
    decided_at: datetime | None = None
    first_shown_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReviewedStudy:
    """Everything an exporter needs about one reviewed series."""

    study_instance_uid: str
    series_instance_uid: str
    scan_path: str
    status: StudyStatus
    findings: tuple[FindingState, ...]
    model: ModelInfo | None = None
    reviewer: str = ""
    signed_off_by: str = ""
    signed_off_at: datetime | None = None
    institution: str = ""
    #: how the sign-off was read (None while not signed off) and, without AI, the reader's reason
    read_mode: ReadMode | None = None
    read_without_ai_reason: str = ""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One row of the append-only audit log: every action, including open, sign-off, export."""

    seq: int
    at: datetime
    actor: str
    action: str
    study_instance_uid: str = ""
    series_instance_uid: str = ""
    finding_id: str = ""
    detail: str = "{}"  # JSON
