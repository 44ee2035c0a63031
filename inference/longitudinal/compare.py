"""Compare a current exam with a prior one: register, match, re-measure both, Lung-RADS with comparison.

Entry point :func:`compare`. Every matched pair is re-measured in both scans by the same
segmentation (:func:`inference.nodules.analyze`): the current nodule at its finding's centre, the
prior one seeded at the registered position of the current nodule (its own finding's centre when
nothing is found there), so the two sizes are comparable. Errors (another patient, a prior that is
not earlier, no lungs in common, failed registration) are :class:`LongitudinalError`\\ s: the caller
shows them and reads the current exam as a baseline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from inference.imaging.volume import Volume
from inference.nodules import AnalysisError, analyze
from inference.nodules.lungrads import MANAGEMENT, classify_nodule, exam_lung_rads, growth_from_prior
from inference.domain.nodule import Growth, LungRads, PriorNodule

from .change import DAYS_PER_MONTH, doubling_time, parse_study_date, slow_growth, volume_change_pct
from .errors import DifferentPatient, PriorNotEarlier
from .matching import Match, gate_mm, match
from .register import Registration, register
from .types import ComparisonResult, FindingOrigin, NoduleInput, NoduleSize, PairStatus, TimePoint


@dataclass(frozen=True, eq=False)
class FollowupResult:
    """The comparison of one exam with its prior: per-nodule results and the exam's category."""

    current_study_uid: str
    prior_study_uid: str
    current_date: dt.date
    prior_date: dt.date
    registration: Registration
    nodules: tuple[ComparisonResult, ...]
    exam_category: LungRads
    exam_reason: str
    management: str
    warnings: tuple[str, ...] = ()

    @property
    def interval_days(self) -> int:
        return (self.current_date - self.prior_date).days

    def by_status(self, status: PairStatus) -> list[ComparisonResult]:
        return [n for n in self.nodules if n.status is status]


def _same_patient(prior: Volume, current: Volume) -> None:
    a, b = prior.info, current.info
    if a.patient_id and b.patient_id and a.patient_id != b.patient_id:
        raise DifferentPatient(a.source or a.study_instance_uid or "prior",
                               f"belongs to patient '{a.patient_id}', the current exam to '{b.patient_id}'",
                               "Choose a prior study of the same patient (nodulelens followup --prior); "
                               "the current exam is read as a baseline meanwhile")


def check_pair(prior: Volume, current: Volume) -> tuple[dt.date, dt.date]:
    """(prior date, current date) after checking the pair: same patient, prior strictly earlier."""
    _same_patient(prior, current)
    pd, cd = parse_study_date(prior.info.study_date), parse_study_date(current.info.study_date)
    subject = prior.info.source or prior.info.study_instance_uid or "prior"
    if pd is None or cd is None:
        which = "prior" if pd is None else "current"
        raise PriorNotEarlier(subject, f"the {which} study has no valid StudyDate, so no interval is known",
                              "Give studies with StudyDate (YYYYMMDD); growth and doubling time need it")
    if pd > cd:
        raise PriorNotEarlier(subject, f"was taken on {pd.isoformat()}, after the current exam ({cd.isoformat()})",
                              "Swap them: compare the later study with the earlier one")
    if pd == cd:
        raise PriorNotEarlier(subject, f"was taken on the same day as the current exam ({cd.isoformat()})",
                              "Choose an earlier study as the prior (--prior); same-day scans are not a follow-up")
    return pd, cd


RESEED_MM = 1.0  # re-segment from the mask's centre when it lies farther than this from the seed


def _measure(volume: Volume, center: Sequence[float], lungs: np.ndarray) -> NoduleSize | None:
    """Segment and measure at ``center``, then once more from the segmented nodule's centre, so that a
    seed near the nodule's edge (a detector's centre, a registered point) gives the same size."""
    seed = np.asarray(center, float)
    r = None
    for _ in range(2):
        try:
            r = analyze(volume, (float(seed[0]), float(seed[1]), float(seed[2])), lung_mask=lungs)
        except AnalysisError:
            break
        c = volume.index_to_world(np.argwhere(r.mask).mean(axis=0) + np.asarray(r.mask_origin_zyx))
        if np.linalg.norm(c - seed) <= RESEED_MM:
            break
        seed = c
    if r is None:
        return None
    m, a = r.measurement, r.analysis
    c = volume.index_to_world(np.argwhere(r.mask).mean(axis=0) + np.asarray(r.mask_origin_zyx))
    return NoduleSize((float(c[0]), float(c[1]), float(c[2])), m.mean_diameter_mm, m.volume_mm3,
                      a.nodule_type, m.solid_component_mm, a.calcified, a.juxta_pleural)


def _baseline_category(s: NoduleSize) -> LungRads:
    return classify_nodule(nodule_type=s.nodule_type, mean_diameter_mm=s.mean_diameter_mm,
                           solid_component_mm=s.solid_component_mm, calcified=s.calcified,
                           juxta_pleural=s.juxta_pleural)[0]


@dataclass(frozen=True)
class _Ctx:
    current: Volume
    prior: Volume
    reg: Registration
    cur_lungs: np.ndarray
    prior_lungs: np.ndarray
    prior_date: dt.date
    current_date: dt.date
    history: Mapping[str, Sequence[TimePoint]]

    @property
    def days(self) -> int:
        return (self.current_date - self.prior_date).days


def _remeasure_pair(ctx: _Ctx, cur_in: NoduleInput, pri_in: NoduleInput) -> tuple[NoduleSize | None, NoduleSize | None]:
    cur = _measure(ctx.current, cur_in.center, ctx.cur_lungs)
    seed_c = cur.center if cur is not None else cur_in.center
    seed = ctx.reg.to_prior(seed_c)
    pri = _measure(ctx.prior, seed.tolist(), ctx.prior_lungs) if ctx.prior.contains_world(seed) else None
    if pri is None or np.linalg.norm(np.asarray(pri.center) - seed) > gate_mm(pri_in.diameter_mm, None):
        pri = _measure(ctx.prior, pri_in.center, ctx.prior_lungs)
    return cur, pri


def _matched(ctx: _Ctx, cur_in: NoduleInput, pri_in: NoduleInput, distance: float) -> ComparisonResult:
    cur, pri = _remeasure_pair(ctx, cur_in, pri_in)
    if cur is None:
        return _new(ctx, cur_in)
    if pri is None:  # nothing to measure at the prior's place: compare with the prior's stated size
        pri = NoduleSize(pri_in.center, float(pri_in.diameter_mm or 0.0), 0.0, cur.nodule_type)
    months = ctx.days / DAYS_PER_MONTH
    prior_cat = pri_in.category or _baseline_category(pri)
    growth = growth_from_prior(cur.mean_diameter_mm, PriorNodule(pri.mean_diameter_mm, months,
                                                                pri.solid_component_mm, prior_cat),
                               cur.solid_component_mm)
    earlier = tuple(ctx.history.get(pri_in.key, ())) + (TimePoint(ctx.prior_date, pri.mean_diameter_mm,
                                                                  pri.volume_mm3),)
    now = TimePoint(ctx.current_date, cur.mean_diameter_mm, cur.volume_mm3)
    slow = growth is Growth.STABLE and slow_growth(earlier, now)
    cat, rule = classify_nodule(nodule_type=cur.nodule_type, mean_diameter_mm=cur.mean_diameter_mm,
                                solid_component_mm=cur.solid_component_mm, growth=growth,
                                calcified=cur.calcified, juxta_pleural=cur.juxta_pleural,
                                prior_category=prior_cat, months_since_prior=months, slow_growth=slow)
    dd = cur.mean_diameter_mm - pri.mean_diameter_mm
    since = ctx.prior_date.isoformat()
    if slow:
        what = f"slow growth {cur.mean_diameter_mm - earlier[0].mean_diameter_mm:+.1f} mm since " \
               f"{earlier[0].date.isoformat()} over {len(earlier)} screens"
    elif growth is Growth.GROWING:
        what = f"grew {dd:+.1f} mm in {months:.0f} months since {since}"
    else:
        what = f"stable ({dd:+.1f} mm) for {months:.0f} months since {since}, prior category {prior_cat.value}"
    if pri_in.origin is FindingOrigin.AI_UNREVIEWED:
        what += " (prior finding from an unreviewed AI read)"
    vchange = volume_change_pct(pri.volume_mm3, cur.volume_mm3)
    vdt, note = doubling_time(pri.volume_mm3, cur.volume_mm3, ctx.days)
    solid = None
    if cur.solid_component_mm is not None and pri.solid_component_mm is not None:
        solid = cur.solid_component_mm - pri.solid_component_mm
    return ComparisonResult(PairStatus.MATCHED, cur_in.key, pri_in.key, cur, pri, pri_in.origin, ctx.prior_date,
                            ctx.days, distance, dd, solid, vchange, vdt, note, growth, slow, cat,
                            f"{what}: category {cat.value} ({rule})", MANAGEMENT[cat], earlier + (now,))


def _new(ctx: _Ctx, cur_in: NoduleInput) -> ComparisonResult:
    cur = _measure(ctx.current, cur_in.center, ctx.cur_lungs)
    if cur is None:  # not measurable: the finding's stated size, as a solid nodule
        from inference.domain.nodule import NoduleType
        d = float(cur_in.diameter_mm or 0.0)
        cur = NoduleSize(cur_in.center, d, float(np.pi / 6 * d ** 3), NoduleType.SOLID)
    cat, rule = classify_nodule(nodule_type=cur.nodule_type, mean_diameter_mm=cur.mean_diameter_mm,
                                solid_component_mm=cur.solid_component_mm, growth=Growth.NEW,
                                calcified=cur.calcified, juxta_pleural=cur.juxta_pleural)
    now = TimePoint(ctx.current_date, cur.mean_diameter_mm, cur.volume_mm3)
    return ComparisonResult(PairStatus.NEW, cur_in.key, None, cur, None, None, ctx.prior_date, ctx.days, None,
                            None, None, None, None, "not computable: not seen on the prior CT", Growth.NEW, False,
                            cat, f"new since {ctx.prior_date.isoformat()}: category {cat.value} ({rule})",
                            MANAGEMENT[cat], (now,))


def _resolved(ctx: _Ctx, pri_in: NoduleInput) -> ComparisonResult:
    pri = _measure(ctx.prior, pri_in.center, ctx.prior_lungs)
    d = pri.mean_diameter_mm if pri is not None else pri_in.diameter_mm
    where = ", ".join(f"{v:.1f}" for v in ctx.reg.to_current(pri_in.center))
    size = f"{d:.1f} mm " if d else ""
    reason = (f"resolved: the {size}nodule of {ctx.prior_date.isoformat()} is not among the current findings; "
              f"check the current scan at ({where}) mm")
    hist = (TimePoint(ctx.prior_date, pri.mean_diameter_mm, pri.volume_mm3),) if pri is not None else ()
    return ComparisonResult(PairStatus.RESOLVED, None, pri_in.key, None, pri, pri_in.origin, ctx.prior_date,
                            ctx.days, None, None, None, None, None, "not computable: not in the current exam",
                            None, False, None, reason, "", hist)


def compare(current: Volume, prior: Volume, current_nodules: Sequence[NoduleInput],
            prior_nodules: Sequence[NoduleInput], *, history: Mapping[str, Sequence[TimePoint]] | None = None,
            registration: Registration | None = None, current_lungs: np.ndarray | None = None,
            prior_lungs: np.ndarray | None = None, forced: Mapping[str, str | None] | None = None) -> FollowupResult:
    """Compare ``current`` with ``prior``. ``history`` gives, per prior nodule key, its sizes on
    still earlier exams (oldest first) for slow growth over the timeline; ``forced`` the reader's
    re-pair (current key → prior key) and un-pair (→ None) decisions."""
    from inference.imaging.lung_mask import lung_mask

    prior_date, current_date = check_pair(prior, current)
    notes: list[str] = []
    if prior.info.frame_of_reference_uid and prior.info.frame_of_reference_uid == current.info.frame_of_reference_uid:
        notes.append("both scans share a frame of reference; registered all the same")
    cur_l = lung_mask(current) if current_lungs is None else current_lungs
    pri_l = lung_mask(prior) if prior_lungs is None else prior_lungs
    reg = registration or register(prior, current, prior_lungs=pri_l, current_lungs=cur_l)
    ctx = _Ctx(current, prior, reg, cur_l, pri_l, prior_date, current_date, history or {})
    results = [_one(ctx, m, current_nodules, prior_nodules) for m in match(current_nodules, prior_nodules, reg, forced)]
    in_current = [(r.lung_rads, r.reason) for r in results if r.lung_rads is not None]
    cat, reason = exam_lung_rads(in_current)
    reason = f"compared with the prior CT of {prior_date.isoformat()}: {reason}"
    resolved = sum(r.status is PairStatus.RESOLVED for r in results)
    if resolved:
        reason += f"; {resolved} prior nodule(s) not found now (resolved, or missed: check)"
    return FollowupResult(current.info.study_instance_uid, prior.info.study_instance_uid, current_date, prior_date,
                          reg, tuple(results), cat, reason, MANAGEMENT[cat], tuple(notes))


def _one(ctx: _Ctx, m: Match, cur: Sequence[NoduleInput], pri: Sequence[NoduleInput]) -> ComparisonResult:
    if m.current is not None and m.prior is not None:
        return _matched(ctx, cur[m.current], pri[m.prior], float(m.distance_mm or 0.0))
    if m.current is not None:
        return _new(ctx, cur[m.current])
    assert m.prior is not None
    return _resolved(ctx, pri[m.prior])

