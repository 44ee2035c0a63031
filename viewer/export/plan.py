"""The export plan: what every builder of one export needs about the reported nodules, computed once.

:func:`build_plan` decides which findings are reported (accepted AI findings and reviewer-added
ones, in the study's order), and gives each its number, tracking identifier and UID, SEG segment
number, display colour, key axial slice and the long/short axis end points on that slice. The SR,
SEG, Parametric Map, PDF, Secondary Capture and JSON builders all read the same plan, so they
cannot disagree about which nodule is which.

``comparison`` of a :class:`PlannedNodule` is the nodule's follow-up comparison with a prior exam
(size then, change, volume doubling time, category); it is ``None`` where no prior was compared.
``followup`` of the plan is the exam's comparison (prior, resolved nodules, tracking UIDs kept
across time points; ``viewer.export.followup_inputs`` makes both from the store). With it, a
nodule's Lung-RADS is the one with comparison, and the exam's category and management are those
of its most suspicious reported nodule with comparison.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from inference.domain.finding import FindingSource
from inference.imaging.volume import Volume
from inference.domain.nodule import LungRads
from inference.longitudinal.types import ComparisonResult
from viewer.export import identity
from viewer.export.palette import SEGMENT_COLOURS, rgb_to_dicom_lab
from viewer.review.model import FindingState, FindingStatus, ReviewedStudy
from viewer.points import as_point

Point = tuple[float, float, float]


class ChangeCategory(Enum):
    NEW = "new"
    STABLE = "stable"
    GROWING = "growing"
    SMALLER = "smaller"


@dataclass(frozen=True, slots=True)
class Comparison:
    """A nodule compared with its prior (filled by the follow-up comparison; optional).

    ``change_mm`` is the change of the compared size (the follow-up's mean diameter); ``result``
    is the follow-up's whole comparison (prior size and volume, interval, changes, doubling time
    and its note), which the SR and JSON carry; ``lung_rads``/``reason``/``management`` are the
    category with comparison and its reason text."""

    prior_study_date: str  # DICOM DA, YYYYMMDD
    prior_long_axis_mm: float | None
    change_mm: float | None
    volume_doubling_days: float | None
    category: ChangeCategory
    result: ComparisonResult | None = None
    lung_rads: LungRads | None = None
    reason: str = ""
    management: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.category, ChangeCategory):
            raise TypeError(f"comparison category must be a ChangeCategory, not {self.category!r}")
        if len(self.prior_study_date) != 8 or not self.prior_study_date.isdigit():
            raise ValueError(f"prior study date must be YYYYMMDD, not {self.prior_study_date!r}")


@dataclass(frozen=True, slots=True)
class ExamComparison:
    """The exam's comparison with its prior: what the exports say about the exam as a whole."""

    prior_study_uid: str
    prior_study_date: str  # DICOM DA, YYYYMMDD
    lung_rads: LungRads | None  # the exam category the comparison gave (all findings then)
    reason: str
    management: str
    resolved: tuple[ComparisonResult, ...] = ()  # prior nodules not found now
    tracking_uids: Mapping[str, str] = field(default_factory=dict)  # finding id → UID over the years


@dataclass(frozen=True, slots=True)
class KeySlice:
    """The axial slice a nodule is shown and measured on, and its axes there (world LPS mm)."""

    z: int  # slice index in volume order
    long_axis: tuple[Point, Point]
    short_axis: tuple[Point, Point]


@dataclass(frozen=True, slots=True)
class PlannedNodule:
    number: int  # 1-based, also the SEG segment number
    state: FindingState
    tracking_uid: str
    tracking_id: str
    colour_rgb: tuple[int, int, int]
    key: KeySlice
    comparison: Comparison | None = None

    @property
    def finding_id(self) -> str:
        return self.state.finding.finding_id

    @property
    def segment_number(self) -> int:
        return self.number

    @property
    def added_by_reviewer(self) -> bool:
        return self.state.finding.source is FindingSource.REVIEWER

    @property
    def analysis(self) -> Any:
        return self.state.finding.analysis

    @property
    def lung_rads(self) -> LungRads | None:
        """Lung-RADS with comparison where the nodule was compared, else the baseline reading's."""
        if self.comparison is not None and self.comparison.lung_rads is not None:
            return self.comparison.lung_rads
        return getattr(self.analysis, "lung_rads", None)

    @property
    def lung_rads_reason(self) -> str:
        if self.comparison is not None and self.comparison.lung_rads is not None:
            return self.comparison.reason
        return str(getattr(self.analysis, "lung_rads_reason", "") or "")

    @property
    def colour_lab(self) -> tuple[int, int, int]:
        return rgb_to_dicom_lab(self.colour_rgb)

    @property
    def label(self) -> str:
        """Segment label: the finding and its Lung-RADS category."""
        rads = self.lung_rads
        kind = "reviewer-added nodule" if self.added_by_reviewer else "AI nodule"
        text = f"Nodule {self.number} ({self.finding_id}), {kind}"
        return (text + (f", Lung-RADS {rads.value}" if rads is not None else ""))[:64]


@dataclass(frozen=True, slots=True, eq=False)
class ExportPlan:
    study: ReviewedStudy
    nodules: tuple[PlannedNodule, ...]
    edited: frozenset[str] = frozenset()
    ai_reviewed: int = 0
    ai_rejected: int = 0
    exam_lung_rads: LungRads | None = None
    exam_lung_rads_reason: str = ""
    management: str = ""
    followup: ExamComparison | None = None

    def nodule(self, finding_id: str) -> PlannedNodule | None:
        return next((n for n in self.nodules if n.finding_id == finding_id), None)

    @property
    def ids(self) -> set[str]:
        return {n.finding_id for n in self.nodules}


def reported_states(study: ReviewedStudy) -> list[FindingState]:
    """Accepted AI findings and reviewer-added findings, in the study's order (see sr.py for why
    rejected and pending AI findings are not reported)."""
    return [s for s in study.findings if s.status is FindingStatus.ACCEPTED]


def build_plan(study: ReviewedStudy, volume: Volume | None = None,
               masks: Mapping[str, Volume] | None = None, edited: Collection[str] = (),
               comparisons: Mapping[str, Comparison] | None = None,
               followup: ExamComparison | None = None) -> ExportPlan:
    """The plan of one export. ``volume`` and ``masks`` (finding id → uint8 crop on the scan's
    grid) place the key slices; without them a nodule's key slice is the one through its centre.
    ``followup`` gives the nodules' tracking UIDs over time and makes the exam category the one
    with comparison."""
    masks = masks or {}
    comparisons = comparisons or {}
    tracked = followup.tracking_uids if followup is not None else {}
    nodules = []
    for i, state in enumerate(reported_states(study)):
        fid = state.finding.finding_id
        nodules.append(PlannedNodule(
            number=i + 1, state=state, tracking_uid=tracked.get(fid) or identity.tracking_uid(study, fid),
            tracking_id=f"Nodule {i + 1} ({fid})"[:64],
            colour_rgb=SEGMENT_COLOURS[i % len(SEGMENT_COLOURS)],
            key=key_slice(state, volume, masks.get(fid)), comparison=comparisons.get(fid)))
    ai = [s for s in study.findings if s.finding.source is FindingSource.AI]
    category, reason, management = _exam_category(nodules, followup)
    return ExportPlan(study, tuple(nodules), frozenset(edited), len(ai),
                      sum(s.status is FindingStatus.REJECTED for s in ai), category, reason,
                      management, followup)


def _exam_category(nodules: list[PlannedNodule], followup: ExamComparison | None
                   ) -> tuple[LungRads | None, str, str]:
    """(category, reason, management) of the exam: its most suspicious reported nodule (with
    comparison where compared: the stepped management comes from that nodule's comparison)."""
    from inference.nodules.lungrads import MANAGEMENT, exam_lung_rads

    if any(n.lung_rads is None for n in nodules):
        return None, "", ""
    category, reason = exam_lung_rads([(n.lung_rads, n.lung_rads_reason) for n in nodules])
    management = MANAGEMENT.get(category, "")
    if followup is not None:
        if not nodules:
            reason = f"no lung nodules (compared with the prior of {followup.prior_study_date})"
        driving = [n.comparison for n in nodules if n.lung_rads is category and n.comparison is not None
                   and n.comparison.management]
        if driving:
            management = driving[0].management
    return category, reason, management


def key_slice(state: FindingState, volume: Volume | None, mask: Volume | None) -> KeySlice:
    """The nodule's key axial slice and axes: the analysis' own axes where it measured them;
    else the slice where the mask is largest, axes along the mask's principal directions there
    (lengths as reported); else the slice through the centre with the reported diameter."""
    f = state.finding
    m = getattr(f.analysis, "measurement", None)
    long_mm = float(getattr(m, "long_axis_mm", 0) or f.diameter_mm or max(f.box.size))
    short_mm = float(getattr(m, "short_axis_mm", 0) or long_mm)
    if m is not None and m.long_axis_lps and m.short_axis_lps:
        la = _ends(m.long_axis_lps)
        sa = _ends(m.short_axis_lps)
        z = _z_of(volume, np.mean(np.asarray(la), axis=0)) if volume is not None else 0
        return KeySlice(z, la, sa)
    centre = np.asarray(f.center, float)
    direction = np.array([1.0, 0.0, 0.0])
    z = _z_of(volume, centre) if volume is not None else 0
    if volume is not None and mask is not None and np.any(mask.voxels):
        z, centre, direction = _largest_section(mask, volume)
    elif volume is not None:
        centre = _on_slice(volume, centre, z)
    perp = np.cross(np.array([0.0, 0.0, 1.0]), direction)
    perp /= np.linalg.norm(perp)
    la = (as_point(centre - direction * long_mm / 2), as_point(centre + direction * long_mm / 2))
    sa = (as_point(centre - perp * short_mm / 2), as_point(centre + perp * short_mm / 2))
    return KeySlice(z, la, sa)


def _ends(points: object) -> tuple[Point, Point]:
    """An axis' two end points (world LPS mm) as plain float triples."""
    a, b = np.asarray(points, dtype=np.float64).reshape(2, 3)
    return as_point(a), as_point(b)


def _z_of(volume: Volume, world: np.ndarray) -> int:
    z = int(round(float(volume.world_to_index(tuple(world))[0])))
    return min(max(z, 0), volume.shape[0] - 1)


def _on_slice(volume: Volume, world: np.ndarray, z: int) -> np.ndarray:
    idx = np.asarray(volume.world_to_index(tuple(world)), float)
    idx[0] = z
    return np.asarray(volume.index_to_world(idx), float)


def _largest_section(mask: Volume, volume: Volume) -> tuple[int, np.ndarray, np.ndarray]:
    areas = mask.voxels.reshape(mask.shape[0], -1).astype(bool).sum(axis=1)
    k = int(np.argmax(areas))
    ys, xs = np.nonzero(mask.voxels[k])
    pts = mask.index_to_world(np.stack([np.full(len(ys), k, float), ys, xs], -1).astype(float))
    pts = np.asarray(pts, float)
    centre = pts.mean(axis=0)
    direction = np.array([1.0, 0.0, 0.0])
    if len(pts) > 2:
        cov = np.cov((pts - centre)[:, :2].T)
        w, v = np.linalg.eigh(cov)
        if w[-1] > w[0] * 1.05:  # a clear major axis; else keep left-right
            direction = np.array([v[0, -1], v[1, -1], 0.0])
    z = _z_of(volume, centre)
    return z, centre, direction / np.linalg.norm(direction)
