"""Rows and chart data of the comparison layout, from a stored comparison. Qt-free, testable alone.

One :class:`FollowupRow` per nodule (current findings first, then resolved prior nodules): prior
size, change, doubling time and Lung-RADS with comparison as display text, the world point to
centre on (in the current exam's frame) and the growth-chart series over the whole timeline.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from inference.longitudinal.types import ComparisonResult, PairStatus
from viewer.review.followup_export import FollowupExport


@dataclass(frozen=True, slots=True)
class FollowupRow:
    key: str  # current finding id, or "prior:<id>" for a resolved nodule
    status: PairStatus
    current_size: str
    prior_size: str
    change: str
    doubling_time: str
    lung_rads: str
    reason: str
    center: tuple[float, float, float]  # current-frame world LPS mm
    dates: tuple[dt.date, ...]
    diameters_mm: tuple[float, ...]
    volumes_mm3: tuple[float | None, ...]


def _mm(v: float | None) -> str:
    return "" if v is None else f"{v:.1f} mm"


def row_of(c: ComparisonResult, center: tuple[float, float, float]) -> FollowupRow:
    change = ""
    if c.diameter_change_mm is not None:
        change = f"{c.diameter_change_mm:+.1f} mm"
        if c.volume_change_pct is not None:
            change += f", {c.volume_change_pct:+.0f} % vol"
    if c.doubling_time_days is not None:
        vdt = f"{c.doubling_time_days:.0f} d"
    else:
        vdt = {PairStatus.NEW: "new", PairStatus.RESOLVED: "resolved"}.get(c.status, "n/c (within noise)")
        if c.status is PairStatus.MATCHED and "shrank" in c.doubling_time_note:
            vdt = "n/c (shrank)"
    key = c.current_key if c.current_key is not None else f"prior:{c.prior_key}"
    return FollowupRow(key, c.status, _mm(c.current.mean_diameter_mm if c.current else None),
                       _mm(c.prior.mean_diameter_mm if c.prior else None), change, vdt,
                       c.lung_rads.value if c.lung_rads is not None else "-", c.reason, center,
                       tuple(p.date for p in c.history), tuple(p.mean_diameter_mm for p in c.history),
                       tuple(p.volume_mm3 for p in c.history))


def rows_of(data: FollowupExport, prior_to_current: object = None) -> list[FollowupRow]:
    """Current nodules (in finding order), then resolved ones. ``prior_to_current`` maps a prior world
    point into the current frame (a :class:`~inference.longitudinal.Registration`'s ``to_current``)."""
    out = []
    for c in data.nodules.values():
        assert c.current is not None
        out.append(row_of(c, c.current.center))
    for c in data.resolved:
        p = c.prior.center if c.prior is not None else (0.0, 0.0, 0.0)
        if callable(prior_to_current):
            w = prior_to_current(p)
            p = (float(w[0]), float(w[1]), float(w[2]))
        out.append(row_of(c, p))
    return out
