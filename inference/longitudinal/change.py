"""Change measures between two sizes of one nodule: diameter, solid component, volume, doubling time.

Volume doubling time (Schultz): ``VDT = t × ln 2 / ln(V2 / V1)`` with ``t`` the days between the
two StudyDates. It is "not computable" when the volume change lies within the measurement noise
of repeated segmentation, :data:`VOLUME_NOISE_PCT` (the NELSON trial's threshold for a real
volume change, 25 %, which also bounds what ``benchmarks/followup.py`` measures on stable
nodules scanned twice with different noise, slice thickness and position), or when the nodule
shrank.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from inference.nodules.lungrads import GROWTH_MM

from .types import TimePoint

#: a volume change smaller than this (per cent of the prior volume) is measurement noise
VOLUME_NOISE_PCT = 25.0
DAYS_PER_MONTH = 365.25 / 12.0


def parse_study_date(text: str) -> dt.date | None:
    """DICOM DA (YYYYMMDD) → date; None when empty or malformed."""
    try:
        return dt.datetime.strptime(text.strip(), "%Y%m%d").date()
    except (ValueError, AttributeError):
        return None


def volume_change_pct(prior_mm3: float, current_mm3: float) -> float | None:
    if prior_mm3 <= 0:
        return None
    return 100.0 * (current_mm3 - prior_mm3) / prior_mm3


def doubling_time(prior_mm3: float, current_mm3: float, interval_days: int,
                  noise_pct: float = VOLUME_NOISE_PCT) -> tuple[float | None, str]:
    """(VDT in days or None, a note saying what it means or why it is not computable)."""
    change = volume_change_pct(prior_mm3, current_mm3)
    if change is None or interval_days <= 0:
        return None, "not computable: no prior volume or no interval"
    if abs(change) < noise_pct:
        return None, (f"not computable: volume change {change:+.0f} % is within the measurement noise "
                      f"(±{noise_pct:.0f} %)")
    if change < 0:
        return None, f"not computable: the nodule shrank ({change:+.0f} % volume)"
    vdt = interval_days * math.log(2.0) / math.log(current_mm3 / prior_mm3)
    return vdt, f"{vdt:.0f} days (Schultz, {interval_days} days between the CTs)"


def slow_growth(history: Sequence[TimePoint], current: TimePoint) -> bool:
    """Growth over several screens: more than 1.5 mm above the earliest size of the timeline, with at
    least two intervals, while the last interval alone does not meet the growth definition."""
    points = sorted(history, key=lambda p: p.date)
    if len(points) < 2:
        return False
    first, last = points[0], points[-1]
    months_last = max(12.0, (current.date - last.date).days / DAYS_PER_MONTH)
    step = (current.mean_diameter_mm - last.mean_diameter_mm) * 12.0 / months_last
    return current.mean_diameter_mm - first.mean_diameter_mm > GROWTH_MM and step <= GROWTH_MM
