"""Who made an export and how its objects are named: equipment attributes, UIDs, selections.

Tracking UIDs are derived from the study and the finding id, so the SR, the SEG and the
Parametric Maps of one export (and any later re-export) name each nodule with the same UID.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata

from pydicom.uid import generate_uid

from inference.domain.finding import FindingSource
from viewer.review.model import FindingState, FindingStatus, ReviewedStudy

MANUFACTURER = "NoduleLens"
MODEL_NAME = "NoduleLens"
SR_SERIES_NUMBER = 9001
SEG_SERIES_NUMBER = 9002
PMAP_SERIES_NUMBER = 9003


def software_version() -> str:
    try:
        return metadata.version("nodulelens")
    except metadata.PackageNotFoundError:
        return "0.1.0"


def device_serial(study: ReviewedStudy) -> str:
    """The software has no serial number; the model id and its manifest hash identify it."""
    if study.model is None:
        return "none"
    return f"{study.model.model_id}:{study.model.manifest_sha256[:12]}"[:64]


def tracking_uid(study: ReviewedStudy, finding_id: str) -> str:
    return generate_uid(entropy_srcs=["nodulelens-tracking", study.study_instance_uid,
                                      study.series_instance_uid, finding_id])


def tracking_id(index: int, state: FindingState) -> str:
    return f"Nodule {index} ({state.finding.finding_id})"[:64]


@dataclass(frozen=True, slots=True)
class Reported:
    """A finding that goes into the SR/SEG: its 1-based number and its state."""

    number: int
    state: FindingState

    @property
    def finding_id(self) -> str:
        return self.state.finding.finding_id

    @property
    def added_by_reviewer(self) -> bool:
        return self.state.finding.source is FindingSource.REVIEWER


def reported_findings(study: ReviewedStudy) -> list[Reported]:
    """Accepted AI findings and reviewer-added findings, in the study's order.

    Rejected and still-pending AI findings are not reported (see sr.py for why).
    """
    kept = [s for s in study.findings if s.status is FindingStatus.ACCEPTED]
    return [Reported(i + 1, s) for i, s in enumerate(kept)]


def device_uid(model) -> str:
    """A stable UID for one model version (derived from its manifest hash)."""
    return generate_uid(entropy_srcs=["nodulelens-model", model.model_id, model.version,
                                      model.manifest_sha256])
