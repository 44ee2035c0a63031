"""What the exports need about an exam's follow-up: per current finding its comparison with the prior
(prior size and date, change, doubling time, Lung-RADS with comparison) and a tracking UID that stays
the same for one nodule across all time points. Qt-free; reads the store only.

    data = followup_export(store, series_uid)      # None when the exam was never compared
    data.nodules["F3"].doubling_time_days          # a ComparisonResult per current finding id
    data.tracking_uids["F3"]                       # the nodule's TrackingUID over the years
    data.as_json()                                 # the block a JSON export carries
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from pydicom.uid import generate_uid

from inference.longitudinal.report import comparison_from_dict, comparison_to_dict
from inference.longitudinal.types import ComparisonResult, PairStatus
from viewer.review.comparisons import latest_comparison
from viewer.review.store import Store

MAX_TIME_POINTS = 50  # a bound on walking the chain of priors


@dataclass(frozen=True, slots=True)
class FollowupExport:
    current_series_uid: str
    prior_series_uid: str
    prior_study_uid: str
    prior_date: dt.date
    exam_lung_rads: str
    exam_reason: str
    management: str
    nodules: dict[str, ComparisonResult] = field(default_factory=dict)  # by current finding id
    resolved: tuple[ComparisonResult, ...] = ()  # prior nodules not found now
    tracking_uids: dict[str, str] = field(default_factory=dict)  # by current finding id

    def as_json(self) -> dict[str, Any]:
        return {
            "prior_study_uid": self.prior_study_uid, "prior_date": self.prior_date.isoformat(),
            "exam": {"lung_rads": self.exam_lung_rads, "reason": self.exam_reason, "management": self.management},
            "nodules": {k: {**comparison_to_dict(v), "tracking_uid": self.tracking_uids.get(k)}
                        for k, v in self.nodules.items()},
            "resolved": [comparison_to_dict(r) for r in self.resolved],
        }


def _prior_series(store: Store, series_uid: str) -> str | None:
    rows = store.query("SELECT prior_series_uid FROM comparisons WHERE series_uid=? ORDER BY seq DESC LIMIT 1",
                       (series_uid,))
    return rows[0]["prior_series_uid"] if rows else None


def tracking_origin(store: Store, series_uid: str, finding_id: str) -> tuple[str, str]:
    """(series UID, finding id) of the nodule's first time point, following the stored comparisons back."""
    for _ in range(MAX_TIME_POINTS):
        data = latest_comparison(store, series_uid)
        prior = _prior_series(store, series_uid)
        if data is None or prior is None:
            break
        hit = [n for n in data["nodules"] if n["current_finding"] == finding_id and n["status"] == "matched"]
        if not hit:
            break
        series_uid, finding_id = prior, hit[0]["prior_finding"]
    return series_uid, finding_id


def nodule_uid(study_uid: str, series_uid: str, finding_id: str) -> str:
    """The tracking UID of a finding first seen in (study, series): the one derivation the exports
    (``viewer.export.identity.tracking_uid``) and the follow-up share, so a baseline exam's export
    and every later follow-up's name the nodule with the same UID."""
    return str(generate_uid(entropy_srcs=["nodulelens-tracking", study_uid, series_uid, finding_id]))


def tracking_uid(store: Store, series_uid: str, finding_id: str) -> str:
    """A DICOM UID for the nodule, the same at every time point (derived from its first time point)."""
    origin_series, origin_finding = tracking_origin(store, series_uid, finding_id)
    study_uid = store.query("SELECT study_uid FROM series WHERE series_uid=?", (origin_series,))
    return nodule_uid(study_uid[0]["study_uid"] if study_uid else "", origin_series, origin_finding)


def followup_export(store: Store, series_uid: str) -> FollowupExport | None:
    data = latest_comparison(store, series_uid)
    prior = _prior_series(store, series_uid)
    if data is None or prior is None:
        return None
    results = [comparison_from_dict(n) for n in data["nodules"]]
    nodules = {r.current_key: r for r in results if r.current_key is not None}
    return FollowupExport(
        series_uid, prior, data["prior_study_uid"], dt.date.fromisoformat(data["prior_date"]),
        data["exam"]["lung_rads"], data["exam"]["reason"], data["exam"]["management"], nodules,
        tuple(r for r in results if r.status is PairStatus.RESOLVED),
        {k: tracking_uid(store, series_uid, k) for k in nodules})
