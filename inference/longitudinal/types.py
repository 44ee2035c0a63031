"""Domain objects of a follow-up comparison (frozen; coded values are enums)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

from inference.domain.nodule import Growth, LungRads, NoduleType


class FindingOrigin(Enum):
    """Where a nodule handed to the comparison came from."""

    AI = "ai"  # a detector finding (accepted by the reviewer where the study was reviewed)
    REVIEWER = "reviewer"  # added by the reviewer
    AI_UNREVIEWED = "ai-unreviewed"  # a detector finding of a study nobody reviewed


class PairStatus(Enum):
    MATCHED = "matched"  # seen in both exams
    NEW = "new"  # in the current exam only
    RESOLVED = "resolved"  # in the prior exam only: shown, since a missed nodule is a miss


@dataclass(frozen=True, slots=True)
class NoduleInput:
    """One nodule of an exam as the comparison gets it (a finding's centre, world LPS mm)."""

    key: str  # the finding id in its study
    center: tuple[float, float, float]
    diameter_mm: float | None = None
    origin: FindingOrigin = FindingOrigin.AI
    category: LungRads | None = None  # the category given on that exam, when known

    def __post_init__(self) -> None:
        if len(self.center) != 3:
            raise ValueError(f"NoduleInput.center must be (x, y, z) mm, got {self.center}")


@dataclass(frozen=True, slots=True)
class NoduleSize:
    """One nodule measured by the project's segmentation in one exam."""

    center: tuple[float, float, float]  # world LPS mm of the segmented nodule (its own exam's frame)
    mean_diameter_mm: float
    volume_mm3: float
    nodule_type: NoduleType
    solid_component_mm: float | None = None
    calcified: bool = False
    juxta_pleural: bool = False


@dataclass(frozen=True, slots=True)
class TimePoint:
    """A nodule's size on one date (the growth chart's points)."""

    date: dt.date
    mean_diameter_mm: float
    volume_mm3: float | None = None


@dataclass(frozen=True, slots=True)
class ComparisonResult:
    """One nodule compared across two exams: sizes, change, doubling time, Lung-RADS.

    ``current`` is None for a RESOLVED nodule, ``prior`` None for a NEW one. Changes are current
    minus prior. ``doubling_time_days`` is None when it is not computable; ``doubling_time_note``
    says why (within the measurement noise, shrinking, not matched).
    """

    status: PairStatus
    current_key: str | None
    prior_key: str | None
    current: NoduleSize | None
    prior: NoduleSize | None
    prior_origin: FindingOrigin | None
    prior_date: dt.date
    interval_days: int
    registered_distance_mm: float | None  # current centre vs the prior centre mapped to the current
    diameter_change_mm: float | None
    solid_change_mm: float | None
    volume_change_pct: float | None
    doubling_time_days: float | None
    doubling_time_note: str
    growth: Growth | None  # None for RESOLVED
    slow_growth: bool
    lung_rads: LungRads | None  # None for RESOLVED (not in the current exam)
    reason: str  # names the comparison, e.g. "stable for 24 months since 2024-03-02: ..."
    management: str
    history: tuple[TimePoint, ...] = ()  # every known size over the timeline, oldest first
