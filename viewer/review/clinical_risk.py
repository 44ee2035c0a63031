"""Each finding's Brock risk from the study's clinical inputs: what the finding card and the
exports show (probability, model used, inputs with their source, which were defaults). Qt-free.

The nodule terms come from the finding's stored analysis (mean diameter, type, zone: "upper" stands
for the upper lobe); the nodule count is the number of findings the reader has not rejected.
Smoking status, pack-years and personal cancer history are stored and exported but are not inputs
of the Brock model (it was built on screening participants, all heavy smokers), so they do not
change the risk; the panel says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from inference.nodules.risk_models import RiskEstimate, estimate_risk
from inference.domain.finding import FindingSource
from inference.domain.nodule import NoduleType, Zone
from viewer.review.clinical import InputSource, PatientInputs, load_inputs
from viewer.review.model import FindingState, FindingStatus, ReviewedStudy

if TYPE_CHECKING:
    from inference.domain.finding import Finding
    from viewer.review.store import Store

#: inputs of the Brock model and how the panel names them
INPUT_LABELS = {"age_years": "age", "sex": "sex", "family_history": "family history",
                "emphysema": "emphysema", "spiculation": "spiculation"}


@dataclass(frozen=True, slots=True)
class FindingRisk:
    """One finding's risk with the model used and where each input came from."""

    finding_id: str
    estimate: RiskEstimate
    sources: tuple[tuple[str, InputSource], ...]

    @property
    def probability(self) -> float:
        return self.estimate.probability

    @property
    def defaults_used(self) -> tuple[str, ...]:
        return self.estimate.defaults_used

    def summary(self) -> str:
        """e.g. "8.1 % (Brock 2b; defaults: family history)"."""
        text = f"{100 * self.probability:.1f} % (Brock {self.estimate.model.value}"
        if self.defaults_used:
            text += "; defaults: " + ", ".join(INPUT_LABELS[d] for d in self.defaults_used)
        return text + ")"

    def to_dict(self) -> dict:
        return {"finding_id": self.finding_id, **self.estimate.to_dict(),
                "sources": {k: v.value for k, v in self.sources}}


def nodule_terms(finding: "Finding") -> tuple[float, NoduleType, bool] | None:
    """(mean diameter mm, type, upper lobe) from a finding's analysis; None when unmeasured."""
    a = finding.analysis
    size = _get(_get(a, "measurement"), "mean_diameter_mm") or finding.diameter_mm
    ntype = _enum(NoduleType, _get(a, "nodule_type"))
    if not size or size <= 0 or ntype is None:
        return None
    return float(size), ntype, _enum(Zone, _get(a, "zone")) is Zone.UPPER


def finding_risk(finding: "Finding", inputs: PatientInputs, nodule_count: int = 1) -> FindingRisk | None:
    terms = nodule_terms(finding)
    if terms is None:
        return None
    size, ntype, upper = terms
    clinical = inputs.clinical_for(finding.finding_id)
    est = estimate_risk(size_mm=size, nodule_type=ntype, upper_lobe=upper,
                        nodule_count=max(1, nodule_count), clinical=clinical)
    sources = dict(inputs.sources())
    sources["spiculation"] = (InputSource.READER if clinical.spiculation is not None
                              else InputSource.NOT_GIVEN)
    for name in est.defaults_used:
        sources[name] = InputSource.DEFAULT
    return FindingRisk(finding.finding_id, est, tuple(sources.items()))


def study_risks(findings: tuple[FindingState, ...] | list[FindingState],
                inputs: PatientInputs, operating_point: float | None = None) -> dict[str, FindingRisk]:
    """The risk of every measured finding of a study (rejected ones too, for the record). The nodule
    count is the findings not rejected, less AI findings scoring below the study's operating point
    (candidates kept for a lower point, not nodules the reader was shown)."""
    count = sum(fs.status is not FindingStatus.REJECTED
                and not (operating_point is not None and fs.finding.source is FindingSource.AI
                         and fs.finding.score < operating_point)
                for fs in findings)
    out = {}
    for fs in findings:
        r = finding_risk(fs.finding, inputs, count)
        if r is not None:
            out[fs.finding.finding_id] = r
    return out


def clinical_export(store: "Store", study: ReviewedStudy) -> dict | None:
    """The study's clinical inputs and per-finding risks for the exporters; None when none saved."""
    stored = load_inputs(store, study.series_instance_uid)
    if stored is None:
        return None
    from viewer.review.operating_point import operating_point

    point = operating_point(store, study.series_instance_uid)
    if point is None and study.model is not None:
        point = study.model.operating_threshold
    risks = study_risks(study.findings, stored.inputs, point)
    return {"inputs": stored.inputs.to_dict(), "entered_by": stored.actor,
            "entered_at": stored.at.isoformat(),
            "risks": {fid: r.to_dict() for fid, r in risks.items()}}


def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _enum(cls: Any, value: Any) -> Any:
    if value is None or isinstance(value, cls):
        return value
    if isinstance(value, Enum):
        value = value.value
    try:
        return cls(value)
    except ValueError:
        return None
