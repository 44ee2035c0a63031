"""JSON form of a follow-up comparison (the CLI's changes.json and the exports' per-nodule data)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from inference.domain.nodule import Growth, LungRads, NoduleType

from .compare import FollowupResult
from .types import ComparisonResult, FindingOrigin, NoduleSize, PairStatus, TimePoint

FORMAT = "nodulelens-followup-v1"


def _r(v: float | None, nd: int = 2) -> float | None:
    return None if v is None else round(float(v), nd)


def _size(s: NoduleSize | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {"center_lps_mm": [round(float(c), 2) for c in s.center], "mean_diameter_mm": _r(s.mean_diameter_mm, 1),
            "volume_mm3": _r(s.volume_mm3, 1), "type": s.nodule_type.value,
            "solid_component_mm": _r(s.solid_component_mm, 1), "calcified": s.calcified,
            "juxta_pleural": s.juxta_pleural}


def comparison_to_dict(c: ComparisonResult) -> dict[str, Any]:
    """One nodule's comparison; keys name the value and its unit."""
    return {
        "status": c.status.value, "current_finding": c.current_key, "prior_finding": c.prior_key,
        "prior_origin": None if c.prior_origin is None else c.prior_origin.value,
        "current": _size(c.current), "prior": _size(c.prior), "prior_date": c.prior_date.isoformat(),
        "interval_days": c.interval_days, "registered_distance_mm": _r(c.registered_distance_mm),
        "diameter_change_mm": _r(c.diameter_change_mm, 1), "solid_change_mm": _r(c.solid_change_mm, 1),
        "volume_change_pct": _r(c.volume_change_pct, 1), "doubling_time_days": _r(c.doubling_time_days, 0),
        "doubling_time_note": c.doubling_time_note, "growth": None if c.growth is None else c.growth.value,
        "slow_growth": c.slow_growth, "lung_rads": None if c.lung_rads is None else c.lung_rads.value,
        "reason": c.reason, "management": c.management,
        "history": [{"date": p.date.isoformat(), "mean_diameter_mm": _r(p.mean_diameter_mm, 1),
                     "volume_mm3": _r(p.volume_mm3, 1)} for p in c.history],
    }


def to_json_dict(result: FollowupResult) -> dict[str, Any]:
    return {
        "format": FORMAT, "current_study_uid": result.current_study_uid, "prior_study_uid": result.prior_study_uid,
        "current_date": result.current_date.isoformat(), "prior_date": result.prior_date.isoformat(),
        "interval_days": result.interval_days,
        "registration": {**result.registration.quality.as_dict(), "seconds": _r(result.registration.seconds),
                         "current_to_prior": [[round(float(v), 6) for v in row] for row in result.registration.matrix]},
        "exam": {"lung_rads": result.exam_category.value, "reason": result.exam_reason,
                 "management": result.management},
        "nodules": [comparison_to_dict(c) for c in result.nodules], "warnings": list(result.warnings),
    }


def _size_from(d: dict[str, Any] | None) -> NoduleSize | None:
    if d is None:
        return None
    c = d["center_lps_mm"]
    return NoduleSize((float(c[0]), float(c[1]), float(c[2])), float(d["mean_diameter_mm"]),
                      float(d["volume_mm3"] or 0.0), NoduleType(d["type"]), d["solid_component_mm"],
                      bool(d["calcified"]), bool(d["juxta_pleural"]))


def comparison_from_dict(d: dict[str, Any]) -> ComparisonResult:
    """Inverse of :func:`comparison_to_dict` (values as rounded there)."""
    def opt(enum: Any, v: Any) -> Any:
        return None if v is None else enum(v)
    return ComparisonResult(
        PairStatus(d["status"]), d["current_finding"], d["prior_finding"], _size_from(d["current"]),
        _size_from(d["prior"]), opt(FindingOrigin, d["prior_origin"]), dt.date.fromisoformat(d["prior_date"]),
        int(d["interval_days"]), d["registered_distance_mm"], d["diameter_change_mm"], d["solid_change_mm"],
        d["volume_change_pct"], d["doubling_time_days"], d["doubling_time_note"], opt(Growth, d["growth"]),
        bool(d["slow_growth"]), opt(LungRads, d["lung_rads"]), d["reason"], d["management"],
        tuple(TimePoint(dt.date.fromisoformat(p["date"]), p["mean_diameter_mm"], p["volume_mm3"])
              for p in d["history"]))
