"""SR content for a follow-up exam: what a TID 1411 measurement group of a nodule adds when the
exam was compared with a prior CT (:mod:`viewer.review.followup_export`).

Measurements: the prior's mean diameter and volume, the interval to the prior, the changes and the
volume doubling time (UCUM units); qualitative evaluations: the comparison (new, growing, stable,
slow growth) and Lung-RADS with comparison. The group's tracking UID should be
``FollowupExport.tracking_uids[finding_id]``, the same at every time point of the nodule.
Private codes (scheme ``99NDLNS``, declared by every SR of the project):

=================  ====================================================================
PRIORDIAM          Mean diameter on the prior CT (mm)
PRIORVOL           Volume on the prior CT (mm3)
PRIORINT           Interval since the prior CT (d)
DIAMCHG            Mean diameter change since the prior CT (mm)
VOLCHG             Volume change since the prior CT (%)
VDT                Volume doubling time, Schultz (d)
COMPARE            Comparison with the prior CT (values NEW, GROWING, STABLE, SLOWGROW)
=================  ====================================================================
"""

from __future__ import annotations

import highdicom as hd
from highdicom.sr import CodedConcept

from inference.longitudinal.types import ComparisonResult, PairStatus
from inference.domain.nodule import Growth
from viewer.export import codes as nl

PRIOR_DIAMETER = nl.private("PRIORDIAM", "Mean diameter on the prior CT")
PRIOR_VOLUME = nl.private("PRIORVOL", "Volume on the prior CT")
PRIOR_INTERVAL = nl.private("PRIORINT", "Interval since the prior CT")
DIAMETER_CHANGE = nl.private("DIAMCHG", "Mean diameter change since the prior CT")
VOLUME_CHANGE = nl.private("VOLCHG", "Volume change since the prior CT")
DOUBLING_TIME = nl.private("VDT", "Volume doubling time (Schultz)")
COMPARISON = nl.private("COMPARE", "Comparison with the prior CT")
COMPARISON_VALUE = {
    Growth.NEW: nl.private("NEW", "New since the prior CT"),
    Growth.GROWING: nl.private("GROWING", "Growing (> 1.5 mm within 12 months)"),
    Growth.STABLE: nl.private("STABLE", "Stable since the prior CT"),
}
SLOW_GROWTH = nl.private("SLOWGROW", "Slow growth over several screens")
DAYS = CodedConcept("d", "UCUM", "day")


def followup_measurements(c: ComparisonResult) -> list[hd.sr.Measurement]:
    """The prior size, interval, changes and doubling time of a compared nodule (none for a NEW one)."""
    if c.status is not PairStatus.MATCHED or c.prior is None:
        return []
    out = [hd.sr.Measurement(PRIOR_DIAMETER, round(c.prior.mean_diameter_mm, 1), nl.MM),
           hd.sr.Measurement(PRIOR_INTERVAL, c.interval_days, DAYS)]
    if c.prior.volume_mm3 > 0:
        out.append(hd.sr.Measurement(PRIOR_VOLUME, round(c.prior.volume_mm3, 1), nl.MM3))
    if c.diameter_change_mm is not None:
        out.append(hd.sr.Measurement(DIAMETER_CHANGE, round(c.diameter_change_mm, 1), nl.MM))
    if c.volume_change_pct is not None:
        out.append(hd.sr.Measurement(VOLUME_CHANGE, round(c.volume_change_pct, 1), nl.PERCENT))
    if c.doubling_time_days is not None:
        out.append(hd.sr.Measurement(DOUBLING_TIME, round(c.doubling_time_days), DAYS))
    return out


def followup_evaluations(c: ComparisonResult) -> list[hd.sr.QualitativeEvaluation]:
    """The comparison (new / growing / stable / slow growth) and Lung-RADS with comparison."""
    out = []
    if c.slow_growth:
        out.append(hd.sr.QualitativeEvaluation(COMPARISON, SLOW_GROWTH))
    elif c.growth in COMPARISON_VALUE:
        out.append(hd.sr.QualitativeEvaluation(COMPARISON, COMPARISON_VALUE[c.growth]))
    if c.lung_rads is not None:
        out.append(hd.sr.QualitativeEvaluation(nl.LUNG_RADS, nl.LUNG_RADS_VALUE[c.lung_rads]))
    return out
