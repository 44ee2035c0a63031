"""Follow-up comparison against exact truth: matching, registration, volume change, doubling time,
Lung-RADS with comparison, time per pair.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/followup.py [--pairs 20] [--no-lidc] [--jitter 1.5]

Pairs: ``--pairs`` phantom follow-ups (``inference.phantom.followup.make_followup_phantom``, seeds
0..N-1: known rigid + affine motion with a different inspiration and a non-affine breathing shift
along z, new noise and slice thickness;
2 growing, 1 stable, 1 resolved, 1 new nodule each) and the real-background follow-ups of
LIDC-IDRI-0001 and -0002 (``make_followup_from_scan``; their real nodules stable, a planted nodule
growing, a new one). The findings handed to the comparison are the true centres moved by a random
``--jitter`` mm (sd per axis), as a detector's centres would be; every size is re-measured by the
project's segmentation. Figures are printed beside the issue's targets.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from inference.longitudinal import ComparisonResult, NoduleInput, PairStatus, compare  # noqa: E402 (after the sys.path set-up)
from inference.longitudinal.change import DAYS_PER_MONTH  # noqa: E402 (after the sys.path set-up)
from inference.nodules.lungrads import classify_nodule, exam_lung_rads, growth_from_prior  # noqa: E402 (after the sys.path set-up)
from inference.domain.nodule import Growth, LungRads, NoduleType, PriorNodule  # noqa: E402 (after the sys.path set-up)
from inference.phantom.followup import FollowupPair, NoduleTruth  # noqa: E402 (after the sys.path set-up)

DATA = REPO.parent / "shared" / "data" / "lidc"
LIDC_NODULES = {
    "LIDC-IDRI-0001": ([((56.21, 86.34, -115.87), 23.35)], NoduleType.SOLID),
    "LIDC-IDRI-0002": ([((59.8, 71.5, -104.1), 23.0)], NoduleType.GROUND_GLASS),
}


def truth_category(n: NoduleTruth, interval_days: int) -> LungRads | None:
    """Lung-RADS v2022 with comparison from the true sizes, through the same rule table."""
    if n.current_diameter_mm is None:
        return None
    if n.prior_diameter_mm is None:
        return classify_nodule(nodule_type=n.nodule_type, mean_diameter_mm=n.current_diameter_mm,
                               growth=Growth.NEW)[0]
    months = interval_days / DAYS_PER_MONTH
    prior_cat = classify_nodule(nodule_type=n.nodule_type, mean_diameter_mm=n.prior_diameter_mm)[0]
    growth = growth_from_prior(n.current_diameter_mm, PriorNodule(n.prior_diameter_mm, months, None, prior_cat))
    return classify_nodule(nodule_type=n.nodule_type, mean_diameter_mm=n.current_diameter_mm, growth=growth,
                           prior_category=prior_cat, months_since_prior=months)[0]


def inputs(pair: FollowupPair, rng: np.random.Generator, jitter: float) -> tuple[list, list]:
    cur, pri = [], []
    for n in pair.nodules:
        if n.current_center is not None:
            cur.append(NoduleInput(n.key, tuple(np.asarray(n.current_center) + rng.normal(0, jitter, 3)),
                                   n.current_diameter_mm))
        if n.prior_center is not None:
            pri.append(NoduleInput(n.key, tuple(np.asarray(n.prior_center) + rng.normal(0, jitter, 3)),
                                   n.prior_diameter_mm))
    return cur, pri


class Tally:
    def __init__(self) -> None:
        self.true_pairs = self.matched_right = self.wrong_pairs = 0
        self.new_true = self.new_found = self.resolved_true = self.resolved_found = 0
        self.residual: list[float] = []
        self.vol_err: list[float] = []
        self.vdt_err: list[float] = []
        self.stable_vol: list[float] = []
        self.cat_ok = self.cat_n = self.exam_ok = self.exam_n = 0
        self.seconds: list[float] = []
        self.cpu: list[float] = []
        self.dice: list[float] = []
        self.misses: list[str] = []
        self.name = ""

    def add(self, name: str, pair: FollowupPair, jitter: float, seed: int) -> None:
        self.name = name
        cur, pri = inputs(pair, np.random.default_rng([seed, 77]), jitter)
        t0, c0 = time.perf_counter(), time.process_time()
        res = compare(pair.current, pair.prior, cur, pri)
        self.seconds.append(time.perf_counter() - t0)
        self.cpu.append(time.process_time() - c0)
        self.dice.append(res.registration.quality.lung_dice)
        truth = {n.key: n for n in pair.nodules}
        for n in pair.nodules:
            if n.prior_center is not None and n.current_center is not None:
                self.true_pairs += 1
                p = res.registration.to_prior(n.current_center)
                self.residual.append(float(np.linalg.norm(p - np.asarray(n.prior_center))))
            self.new_true += n.prior_center is None
            self.resolved_true += n.current_center is None
        truth_cats = []
        for c in res.nodules:
            if c.status is PairStatus.MATCHED:
                if c.current_key == c.prior_key:
                    self.matched_right += 1
                else:
                    self.wrong_pairs += 1
                    self.misses.append(f"{name}: wrong pair {c.current_key} ~ {c.prior_key}")
            elif c.status is PairStatus.NEW:
                self.new_found += truth[c.current_key or ""].prior_center is None
            else:
                self.resolved_found += truth[c.prior_key or ""].current_center is None
            n = truth[c.current_key or c.prior_key or ""]
            self._sizes(c, n, pair.interval_days)
            want = truth_category(n, pair.interval_days)
            if want is not None:
                truth_cats.append(want)
                self.cat_n += 1
                if c.lung_rads is want:
                    self.cat_ok += 1
                else:
                    self.misses.append(f"{name}: {n.key} Lung-RADS {c.lung_rads and c.lung_rads.value} "
                                       f"vs truth {want.value} ({c.reason})")
        self.exam_n += 1
        self.exam_ok += res.exam_category is exam_lung_rads(truth_cats)[0]

    def _sizes(self, c: ComparisonResult, n: NoduleTruth, days: int) -> None:
        if (c.status is not PairStatus.MATCHED or n.prior_volume_mm3 is None or n.current_volume_mm3 is None
                or c.volume_change_pct is None):
            return
        true_ratio = n.current_volume_mm3 / n.prior_volume_mm3
        ratio = 1.0 + c.volume_change_pct / 100.0
        if n.prior_diameter_mm == n.current_diameter_mm:
            self.stable_vol.append(c.volume_change_pct)
        if min(n.prior_diameter_mm or 0, n.current_diameter_mm or 0) >= 6.0:
            self.vol_err.append(100.0 * (ratio / true_ratio - 1.0))
            if abs(self.vol_err[-1]) > 15.0:
                self.misses.append(f"{self.name}: {n.key} volume change {c.volume_change_pct:+.1f} % vs truth "
                                   f"{100.0 * (true_ratio - 1.0):+.1f} %")
        vdt = n.doubling_time_days(days)
        if vdt is not None and 100.0 <= vdt <= 800.0:
            err = float("inf") if c.doubling_time_days is None else 100.0 * (c.doubling_time_days / vdt - 1.0)
            self.vdt_err.append(err)

    def report(self) -> None:
        def pct(a: int, b: int) -> str:
            return f"{a}/{b} ({100.0 * a / max(b, 1):.1f} %)"
        ve = np.abs(self.vol_err)
        vd = np.abs(self.vdt_err)
        rows = [
            ("true pairs matched", pct(self.matched_right, self.true_pairs), ">= 98 %"),
            ("wrong pairs", str(self.wrong_pairs), "0"),
            ("new nodules reported NEW", pct(self.new_found, self.new_true), "all"),
            ("resolved nodules reported RESOLVED", pct(self.resolved_found, self.resolved_true), "all"),
            ("registration residual at nodule centres, median / max mm",
             f"{statistics.median(self.residual):.2f} / {max(self.residual):.2f}", "<= 2 mm median"),
            ("lung-mask Dice after registration, min", f"{min(self.dice):.3f}", "(quality report)"),
            ("volume change error (ratio vs truth), nodules >= 6 mm: within ±15 %",
             f"{int((ve <= 15).sum())}/{len(ve)}, median |err| {np.median(ve):.1f} %, max {ve.max():.1f} %",
             "all within ±15 %"),
            ("doubling time error, truth 100-800 days: within ±25 %",
             f"{int((vd <= 25).sum())}/{len(vd)}, median |err| {np.median(vd):.1f} %, max {vd.max():.1f} %",
             "all within ±25 %"),
            ("stable nodules: measured volume change, mean ± sd (noise)",
             f"{np.mean(self.stable_vol):+.1f} ± {np.std(self.stable_vol):.1f} % (n={len(self.stable_vol)}, "
             f"max |{np.max(np.abs(self.stable_vol)):.1f}| %)", "< 25 % (VOLUME_NOISE_PCT)"),
            ("Lung-RADS with comparison = truth, per nodule", pct(self.cat_ok, self.cat_n), "every nodule"),
            ("Lung-RADS with comparison = truth, per exam", pct(self.exam_ok, self.exam_n), "every pair"),
            ("seconds per pair (register + match + re-measure), wall median / max",
             f"{statistics.median(self.seconds):.1f} / {max(self.seconds):.1f}", "<= 20 s on 2 cores"),
            ("CPU seconds per pair (this process, all threads), median / max",
             f"{statistics.median(self.cpu):.1f} / {max(self.cpu):.1f}", "(wall time on a shared machine varies)"),
        ]
        w = max(len(r[0]) for r in rows)
        print(f"{'figure':<{w}}  {'measured':<52} target")
        for name, got, want in rows:
            print(f"{name:<{w}}  {got:<52} {want}")
        for m in self.misses:
            print("  miss:", m)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=20)
    ap.add_argument("--jitter", type=float, default=1.5, help="sd (mm) of the finding centres around the truth")
    ap.add_argument("--no-lidc", action="store_true")
    args = ap.parse_args()
    from inference.phantom.followup import make_followup_from_scan, make_followup_phantom

    tally = Tally()
    t0 = time.perf_counter()
    for seed in range(args.pairs):
        pair = make_followup_phantom(seed)
        tally.add(f"phantom {seed}", pair, args.jitter, seed)
    n_real = 0
    if not args.no_lidc and DATA.is_dir():
        from inference.imaging import load
        for i, (case, (nodules, kind)) in enumerate(LIDC_NODULES.items()):
            prior = load(DATA / case)
            pair = make_followup_from_scan(prior, nodules, seed=i, real_type=kind)
            tally.add(case, pair, args.jitter, 1000 + i)
            n_real += 1
    print(f"{args.pairs} phantom pairs + {n_real} real-background (LIDC) pairs, jitter {args.jitter} mm, "
          f"{time.perf_counter() - t0:.0f} s in all\n")
    tally.report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
