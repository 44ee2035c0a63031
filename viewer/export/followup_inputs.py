"""The follow-up comparison of an exam as the export plan takes it.

``viewer.review.followup_export.followup_export`` reads the exam's latest stored comparison; this
module turns it into the plan's per-nodule :class:`~viewer.export.plan.Comparison` (the whole
``ComparisonResult`` passed through, plus the plan's change category) and the exam's
:class:`~viewer.export.plan.ExamComparison` (prior, resolved nodules, tracking UIDs that stay the
same for a nodule at every time point).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from inference.longitudinal.types import ComparisonResult, PairStatus
from inference.domain.nodule import Growth, LungRads
from viewer.export.plan import ChangeCategory, Comparison, ExamComparison

if TYPE_CHECKING:
    from viewer.review.followup_export import FollowupExport
    from viewer.review.store import Store

#: a mean diameter down by more than this (mm) is SMALLER; Lung-RADS v2022's growth threshold,
#: used both ways: a smaller change is within the measurement noise of two segmentations
SHRINK_MM = 1.5


def change_category(c: ComparisonResult) -> ChangeCategory:
    """NEW, GROWING (Lung-RADS growth or slow growth over several screens), SMALLER, else STABLE."""
    if c.status is PairStatus.NEW:
        return ChangeCategory.NEW
    if c.status is not PairStatus.MATCHED:
        raise ValueError(f"a {c.status.value} nodule has no change category (it is not in the current exam)")
    if c.growth is Growth.GROWING or c.slow_growth:
        return ChangeCategory.GROWING
    if c.diameter_change_mm is not None and c.diameter_change_mm < -SHRINK_MM:
        return ChangeCategory.SMALLER
    return ChangeCategory.STABLE


def plan_comparison(c: ComparisonResult) -> Comparison:
    """One current nodule's comparison, for the plan (prior size: the follow-up's mean diameter)."""
    return Comparison(
        prior_study_date=c.prior_date.strftime("%Y%m%d"),
        prior_long_axis_mm=None,  # the follow-up re-measures the mean diameter and volume, not the axes
        change_mm=c.diameter_change_mm, volume_doubling_days=c.doubling_time_days,
        category=change_category(c), result=c, lung_rads=c.lung_rads, reason=c.reason,
        management=c.management)


def _lung_rads(value: str) -> LungRads | None:
    try:
        return LungRads(value)
    except ValueError:
        return None


def from_followup(data: FollowupExport) -> tuple[dict[str, Comparison], ExamComparison]:
    comparisons = {fid: plan_comparison(c) for fid, c in data.nodules.items()
                   if c.status in (PairStatus.MATCHED, PairStatus.NEW)}
    exam = ExamComparison(
        prior_study_uid=data.prior_study_uid, prior_study_date=data.prior_date.strftime("%Y%m%d"),
        lung_rads=_lung_rads(str(data.exam_lung_rads)), reason=data.exam_reason, management=data.management,
        resolved=tuple(data.resolved), tracking_uids=dict(data.tracking_uids))
    return comparisons, exam


def comparison_inputs(store: Store, series_uid: str) -> tuple[dict[str, Comparison], ExamComparison | None]:
    """The exam's comparisons from the store ({} and None when it was never compared)."""
    from viewer.review.followup_export import followup_export

    data = followup_export(store, series_uid)
    if data is None:
        return {}, None
    return from_followup(data)
