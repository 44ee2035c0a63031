"""Lung-RADS v2022 rules for one nodule and for the exam.

Reference: American College of Radiology, Lung CT Screening Reporting & Data System (Lung-RADS)
v2022, Assessment Categories table and its notes (released November 2022,
https://www.acr.org/Clinical-Resources/Reporting-and-Data-Systems/Lung-Rads); summarised with the
evidence in Christensen J, Prosper AE, Wu CC, et al. ACR Lung-RADS v2022: Assessment Categories
and Management Recommendations. Chest 2024;165(3):738-753.

Size is the mean diameter (average of long and short axis, each to 0.1 mm, measured on lung
windows); for part-solid nodules the solid component's mean diameter decides the higher
categories. Growth is an increase of the mean diameter by more than 1.5 mm within 12 months.
Every threshold below was checked against the v2022 table (mm, "<" exclusive); "confirmed" means
the code already matched it, "corrected" that it was changed to match:

solid        baseline: <6 → 2, 6–<8 → 3, 8–<15 → 4A, ≥15 → 4B                      confirmed
             new:      <4 → 2, 4–<6 → 3, 6–<8 → 4A, ≥8 → 4B                        confirmed
             growing:  <8 → 4A, ≥8 → 4B                                            confirmed
part-solid   baseline: total <6 → 2; total ≥6 with solid <6 → 3, solid 6–<8 → 4A,
             solid ≥8 → 4B                                                         confirmed
             new:      total <6 → 3; otherwise new solid component <4 → 4A, ≥4 → 4B   confirmed
             growing solid component: <4 → 4A, ≥4 → 4B                             confirmed
ground-glass <30 → 2 at baseline, new or growing; ≥30 → 3 at baseline or new          confirmed
             ≥30 and stable or (slowly) growing → 2                                 corrected:
             a growing ≥30 mm ground-glass nodule was category 3; v2022 lists it under 2
             (a reader who judges the growth suspicious adds suspicious features → 4X)
benign       calcification of a benign pattern (complete, central, popcorn, concentric) or fat
             → 1                                                                   confirmed
juxtapleural solid, smooth margins (oval, lentiform or triangular), mean diameter <10 mm,
             baseline or new → 2 (v2022 extends the v1.1 perifissural rule to every
             juxtapleural nodule)                                                  confirmed
stable       v2022 stepped management: a category 3 nodule stable (or smaller) at its 6-month
             CT → 2, a category 4A nodule stable at its 3-month CT → 3; no step-down for 4B;
             a stable nodule without a known prior category → 2 (category 3/4 nodules unchanged
             for ≥3 months)                                                        confirmed
             with the interval known (``months_since_prior``): a category 4A nodule stable
             for 9 months or more has passed both steps (3-month CT → 3, then 6-month CT → 2)
             and is category 2
growth rate  growth is > 1.5 mm within 12 months: over a longer interval the increase is
             prorated to 12 months; an increase over several screens that never meets that rate
             is slow growth: a solid or part-solid nodule growing slowly → 4B (v2022 table, 4B)
size step    a nodule that reaches a higher size category without meeting the growth
             definition is reclassified by its size (v2022 note on size thresholds)   corrected:
             a stable nodule whose size category now ranks above its prior category keeps the
             size category instead of stepping down
4X           a category 3 or 4 nodule with features that raise suspicion (e.g. spiculation)
                                                                                   confirmed
Management texts are paraphrased from the table's management column.

Not encoded (the reader decides them): category 0 for suspected infection or inflammation (1-3
month LDCT), airway nodules and atypical cysts. Slow growth over several screens needs the
patient's timeline: :mod:`inference.longitudinal` finds it and passes ``slow_growth``.
"""

from __future__ import annotations

from collections.abc import Iterable

from inference.domain.nodule import Growth, LungRads, NoduleType, PriorNodule

GROWTH_MM = 1.5

MANAGEMENT: dict[LungRads, str] = {
    LungRads.CAT_0: ("More screening CT images, or comparison with earlier chest CTs, are needed "
                     "before a category can be given; for a finding that looks infectious or "
                     "inflammatory, a low-dose CT after 1-3 months."),
    LungRads.CAT_1: "Annual screening goes on: next low-dose CT (LDCT) in 12 months.",
    LungRads.CAT_2: "Annual screening goes on: next low-dose CT (LDCT) in 12 months.",
    LungRads.CAT_3: "Low-dose CT after 6 months (6-month LDCT).",
    LungRads.CAT_4A: ("Low-dose CT after 3 months (3-month LDCT); PET/CT is an option when a "
                      "solid nodule or solid component measures 8 mm or more."),
    LungRads.CAT_4B: ("Further work-up, depending on the probability of malignancy, comorbidity "
                      "and the patient's preference: diagnostic chest CT with or without "
                      "contrast, PET/CT as an option when a solid nodule or solid component "
                      "measures 8 mm or more, tissue sampling, and/or referral for clinical "
                      "evaluation."),
}
MANAGEMENT[LungRads.CAT_4X] = MANAGEMENT[LungRads.CAT_4B]


def growth_from_prior(mean_diameter_mm: float, prior: PriorNodule | None,
                      solid_component_mm: float | None = None) -> Growth:
    """BASELINE without a prior CT, NEW when the prior had no nodule there, GROWING when the mean
    diameter (or, for part-solid nodules with a known prior solid component, the solid component)
    rose by more than 1.5 mm, STABLE otherwise."""
    if prior is None:
        return Growth.BASELINE
    if prior.mean_diameter_mm is None:
        return Growth.NEW
    per_year = 12.0 / max(12.0, float(prior.months_ago))  # growth is measured within 12 months
    if (mean_diameter_mm - prior.mean_diameter_mm) * per_year > GROWTH_MM:
        return Growth.GROWING
    if (solid_component_mm is not None and prior.solid_component_mm is not None
            and (solid_component_mm - prior.solid_component_mm) * per_year > GROWTH_MM):
        return Growth.GROWING
    return Growth.STABLE


def _solid(d: float, growth: Growth) -> tuple[LungRads, str]:
    if growth is Growth.GROWING:
        return (LungRads.CAT_4A, f"growing solid nodule < 8 mm ({d:.1f} mm)") if d < 8 else \
            (LungRads.CAT_4B, f"growing solid nodule >= 8 mm ({d:.1f} mm)")
    if growth is Growth.NEW:
        cuts = ((4, LungRads.CAT_2), (6, LungRads.CAT_3), (8, LungRads.CAT_4A))
        last, label = LungRads.CAT_4B, "new solid nodule"
    else:
        cuts = ((6, LungRads.CAT_2), (8, LungRads.CAT_3), (15, LungRads.CAT_4A))
        last = LungRads.CAT_4B
        label = "solid nodule at baseline" if growth is Growth.BASELINE else \
            f"{growth.value} solid nodule, by size"
    lo = 0
    for hi, cat in cuts:
        if d < hi:
            return cat, f"{label} {lo}-<{hi} mm ({d:.1f} mm)" if lo else f"{label} < {hi} mm ({d:.1f} mm)"
        lo = hi
    return last, f"{label} >= {lo} mm ({d:.1f} mm)"


def _part_solid(d: float, s: float, growth: Growth) -> tuple[LungRads, str]:
    sd = f"total {d:.1f} mm, solid component {s:.1f} mm"
    if growth in (Growth.NEW, Growth.GROWING):
        word = growth.value
        if growth is Growth.NEW and d < 6:
            return LungRads.CAT_3, f"new part-solid nodule < 6 mm total ({sd})"
        if s >= 4:
            return LungRads.CAT_4B, f"{word} part-solid nodule, solid component >= 4 mm ({sd})"
        return LungRads.CAT_4A, f"{word} part-solid nodule, solid component < 4 mm ({sd})"
    if d < 6:
        return LungRads.CAT_2, f"part-solid nodule < 6 mm total at baseline ({sd})"
    if s < 6:
        return LungRads.CAT_3, f"part-solid nodule >= 6 mm, solid component < 6 mm ({sd})"
    if s < 8:
        return LungRads.CAT_4A, f"part-solid nodule, solid component 6-<8 mm ({sd})"
    return LungRads.CAT_4B, f"part-solid nodule, solid component >= 8 mm ({sd})"


def _ground_glass(d: float, growth: Growth) -> tuple[LungRads, str]:
    if d < 30:
        return LungRads.CAT_2, f"ground-glass nodule < 30 mm, {growth.value} ({d:.1f} mm)"
    if growth in (Growth.STABLE, Growth.GROWING):
        return LungRads.CAT_2, f"ground-glass nodule >= 30 mm, {growth.value} ({d:.1f} mm)"
    return LungRads.CAT_3, f"ground-glass nodule >= 30 mm, {growth.value} ({d:.1f} mm)"


#: a category 4A nodule stable this long has passed the 3-month and the 6-month step
STABLE_4A_TO_2_MONTHS = 9.0


def _stable(prior_category: LungRads | None, months: float | None = None) -> tuple[LungRads, str] | None:
    if prior_category is LungRads.CAT_3:
        return LungRads.CAT_2, "stable category 3 nodule (v2022 stepped management)"
    if prior_category is LungRads.CAT_4A:
        if months is not None and months >= STABLE_4A_TO_2_MONTHS:
            return LungRads.CAT_2, ("category 4A nodule stable for >= 9 months (v2022 stepped management: "
                                    "3-month CT → 3, 6-month CT → 2)")
        return LungRads.CAT_3, "stable category 4A nodule (v2022 stepped management)"
    if prior_category in (LungRads.CAT_4B, LungRads.CAT_4X):
        return None  # no step-down for 4B / 4X: classify by size
    return LungRads.CAT_2, "stable nodule (no growth since the prior CT)"


def _by_size(nodule_type: NoduleType, d: float, solid_component_mm: float | None,
             growth: Growth) -> tuple[LungRads, str]:
    if nodule_type is NoduleType.SOLID:
        return _solid(d, growth)
    if nodule_type is NoduleType.PART_SOLID:
        s = round(float(solid_component_mm if solid_component_mm is not None else 0.0), 1)
        return _part_solid(d, min(s, d), growth)
    return _ground_glass(d, growth)


def classify_nodule(*, nodule_type: NoduleType, mean_diameter_mm: float,
                    solid_component_mm: float | None = None, growth: Growth = Growth.BASELINE,
                    calcified: bool = False, fat: bool = False, juxta_pleural: bool = False,
                    smooth_margins: bool = True, suspicious_features: bool = False,
                    prior_category: LungRads | None = None, months_since_prior: float | None = None,
                    slow_growth: bool = False) -> tuple[LungRads, str]:
    """Lung-RADS v2022 category of one nodule and the rule that gave it.

    ``months_since_prior`` (the interval to the compared CT) lets a stable 4A nodule step down
    to 2 after both steps; ``slow_growth`` (growth over several screens that never reached
    > 1.5 mm within 12 months) makes a stable solid or part-solid nodule 4B.
    """
    d = round(float(mean_diameter_mm), 1)
    if not d >= 0:
        raise ValueError(f"mean_diameter_mm must be >= 0, got {mean_diameter_mm}")
    if calcified or fat:
        what = "benign calcification" if calcified else "fat-containing nodule"
        return LungRads.CAT_1, f"{what} (benign)"
    if (juxta_pleural and nodule_type is NoduleType.SOLID and smooth_margins and d < 10
            and growth in (Growth.BASELINE, Growth.NEW)):
        return LungRads.CAT_2, f"juxtapleural solid nodule with smooth margins < 10 mm ({d:.1f} mm)"
    if slow_growth and growth is Growth.STABLE and nodule_type is not NoduleType.GROUND_GLASS:
        slow = f"slowly growing {nodule_type.value} nodule: growth over several screens ({d:.1f} mm now)"
        if suspicious_features:
            return LungRads.CAT_4X, f"{slow}; with suspicious features (e.g. spiculation)"
        return LungRads.CAT_4B, slow
    by_size = _by_size(nodule_type, d, solid_component_mm, growth)
    stepped = _stable(prior_category, months_since_prior) if growth is Growth.STABLE else None
    cat_reason: tuple[LungRads, str]
    if stepped is not None:
        cat_reason = stepped
    if stepped is None or (prior_category is not None and by_size[0].rank > prior_category.rank):
        cat_reason = by_size  # no step-down, or the nodule reached a higher size category
        if growth is Growth.STABLE and prior_category is not None:
            cat_reason = (by_size[0], f"{by_size[1]}; reached a higher size category than the "
                                      f"prior category {prior_category.value}"
                          if by_size[0].rank > prior_category.rank else by_size[1])
    cat, reason = cat_reason
    if suspicious_features and cat in (LungRads.CAT_3, LungRads.CAT_4A, LungRads.CAT_4B):
        return LungRads.CAT_4X, f"{reason}; with suspicious features (e.g. spiculation)"
    return cat, reason


def exam_lung_rads(analyses: Iterable) -> tuple[LungRads, str]:
    """The exam's category: its most suspicious nodule (category 1 when there is none).

    Items may be :class:`NoduleAnalysis` objects, ``(LungRads, reason)`` pairs or categories.
    An incomplete (category 0) nodule makes the exam incomplete.
    """
    items: list[tuple[LungRads, str]] = []
    for a in analyses:
        if isinstance(a, LungRads):
            items.append((a, ""))
        elif isinstance(a, tuple):
            items.append((a[0], a[1]))
        else:
            items.append((a.lung_rads, a.lung_rads_reason))
    if not items:
        return LungRads.CAT_1, "no lung nodules"
    incomplete = [i for i in items if i[0] is LungRads.CAT_0]
    if incomplete:
        return LungRads.CAT_0, f"incomplete: {incomplete[0][1]}".rstrip(": ")
    cat, reason = max(items, key=lambda i: i[0].rank)
    n = len(items)
    return cat, f"most suspicious of {n} nodule{'s' if n > 1 else ''}: {reason}".rstrip(": ")
