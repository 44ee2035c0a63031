"""FROC and CPM under the LUNA16 rules. Torch-free (numpy; matplotlib only for the plot).

- A detection hits a reference nodule when its centre lies within diameter/2 of the nodule's
  centre. A nodule counts once, with the highest score among its hits; further hits on it are
  neither true nor false positives.
- A detection that hits no nodule but lies within an excluded finding (annotations_excluded.csv;
  diameter -1 read as 10 mm, as the LUNA16 evaluation script does) counts neither way.
- Every other detection is a false positive.
- The FROC curve is taken over all thresholds (every distinct score). Sensitivity at a rate of
  r false positives per scan is the highest sensitivity reached at any threshold with at most r
  false positives per scan (the curve's staircase, no interpolation).
- CPM is the mean of those sensitivities at 1/8, 1/4, 1/2, 1, 2, 4 and 8 FPs per scan.
- The 95 % confidence interval comes from a bootstrap over scans.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FP_RATES = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
EXCLUDED_DEFAULT_DIAMETER_MM = 10.0


class FrocError(ValueError):
    """Unusable evaluation input (a malformed annotations or detections file)."""


@dataclass(frozen=True, slots=True)
class Reference:
    center: tuple[float, float, float]
    diameter_mm: float


@dataclass(frozen=True, slots=True)
class Detection:
    series_uid: str
    center: tuple[float, float, float]
    score: float


@dataclass(frozen=True, slots=True)
class FrocResult:
    fps_per_scan: np.ndarray  # per threshold, descending thresholds
    sensitivity: np.ndarray
    thresholds: np.ndarray
    sens_at: tuple[float, ...]  # at FP_RATES
    cpm: float
    n_nodules: int
    n_scans: int
    cpm_ci: tuple[float, float] | None = None
    sens_at_ci: tuple[tuple[float, float], ...] | None = None

    def fps_at_threshold(self, threshold: float) -> float:
        k = np.searchsorted(-self.thresholds, -threshold, side="right")
        return float(self.fps_per_scan[k - 1]) if k > 0 else 0.0

    def sensitivity_at_threshold(self, threshold: float) -> float:
        k = np.searchsorted(-self.thresholds, -threshold, side="right")
        return float(self.sensitivity[k - 1]) if k > 0 else 0.0


def _read_luna_csv(path: str | Path, value: str, what: str) -> list[tuple[str, tuple, float]]:
    """Rows (seriesuid, (x, y, z), value) of a LUNA16 CSV whose fifth column is ``value``."""
    path = Path(path)
    try:
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise FrocError(f"{path}: cannot read {what} ({exc.strerror})") from None
    need = {"seriesuid", "coordX", "coordY", "coordZ", value}
    if rows and not need <= set(rows[0]):
        raise FrocError(f"{path}: {what} need the LUNA16 columns {','.join(sorted(need))}; "
                        f"found {','.join(rows[0])}")
    out = []
    for i, r in enumerate(rows, start=2):
        try:
            out.append((r["seriesuid"], (float(r["coordX"]), float(r["coordY"]), float(r["coordZ"])),
                        float(r[value])))
        except (TypeError, ValueError):
            raise FrocError(f"{path}, line {i}: coordinates and {value} must be numbers") from None
    return out


def read_annotations(path: str | Path) -> dict[str, list[Reference]]:
    """A LUNA16 annotations CSV: seriesuid,coordX,coordY,coordZ,diameter_mm (world LPS mm)."""
    out: dict[str, list[Reference]] = {}
    for uid, center, diameter in _read_luna_csv(path, "diameter_mm", "annotations"):
        out.setdefault(uid, []).append(Reference(center, diameter))
    return out


def read_candidates(path: str | Path) -> list[Detection]:
    """A LUNA16 candidates (submission) CSV: seriesuid,coordX,coordY,coordZ,probability."""
    return [Detection(uid, center, p) for uid, center, p in _read_luna_csv(path, "probability", "candidates")]


def _score_scan(dets: list[Detection], refs: list[Reference], excluded: list[Reference]
                ) -> tuple[np.ndarray, list[float]]:
    """(best score per reference nodule, -inf when missed; false-positive scores)."""
    best = np.full(len(refs), -np.inf)
    fps: list[float] = []
    rc = np.array([r.center for r in refs]).reshape(-1, 3)
    rr = np.array([r.diameter_mm / 2 for r in refs])
    ec = np.array([e.center for e in excluded]).reshape(-1, 3)
    er = np.array([(e.diameter_mm if e.diameter_mm > 0 else EXCLUDED_DEFAULT_DIAMETER_MM) / 2
                   for e in excluded])
    for d in dets:
        p = np.asarray(d.center)
        hit = np.linalg.norm(rc - p, axis=1) <= rr if len(refs) else np.zeros(0, bool)
        if hit.any():
            best[hit] = np.maximum(best[hit], d.score)
            continue
        if len(excluded) and np.any(np.linalg.norm(ec - p, axis=1) <= er):
            continue
        fps.append(d.score)
    return best, fps


def _curve(per_scan: list[tuple[np.ndarray, list[float]]]):
    tp = np.concatenate([b for b, _ in per_scan]) if per_scan else np.zeros(0)
    fp = np.asarray([s for _, f in per_scan for s in f], float)
    n_nod, n_scans = len(tp), len(per_scan)
    scores = np.unique(np.concatenate([tp[np.isfinite(tp)], fp]))[::-1]
    tp_sorted = np.sort(tp[np.isfinite(tp)])[::-1]
    fp_sorted = np.sort(fp)[::-1]
    # counts of items with score >= t for each threshold t
    n_tp = np.searchsorted(-tp_sorted, -scores, side="right")
    n_fp = np.searchsorted(-fp_sorted, -scores, side="right")
    sens = n_tp / n_nod if n_nod else np.zeros(len(scores))
    fpr = n_fp / max(n_scans, 1)
    return scores, sens.astype(float), fpr.astype(float), n_nod, n_scans


def _sens_at(sens: np.ndarray, fpr: np.ndarray, rates=FP_RATES) -> tuple[float, ...]:
    out = []
    for r in rates:
        ok = fpr <= r + 1e-12
        out.append(float(sens[ok].max()) if ok.any() else 0.0)
    return tuple(out)


def froc(detections: list[Detection], annotations: dict[str, list[Reference]],
         scan_ids: list[str], excluded: dict[str, list[Reference]] | None = None,
         bootstrap: int = 0, seed: int = 0) -> FrocResult:
    """FROC over the scans ``scan_ids`` (every evaluated scan, with or without nodules)."""
    excluded = excluded or {}
    by_scan: dict[str, list[Detection]] = {s: [] for s in scan_ids}
    for d in detections:
        if d.series_uid not in by_scan:
            raise FrocError(f"detection for series {d.series_uid!r}, which is not among the "
                            f"evaluated scans; pass every scan id the detections refer to")
        by_scan[d.series_uid].append(d)
    per_scan = [_score_scan(by_scan[s], annotations.get(s, []), excluded.get(s, []))
                for s in scan_ids]
    scores, sens, fpr, n_nod, n_scans = _curve(per_scan)
    sa = _sens_at(sens, fpr)
    result = FrocResult(fpr, sens, scores, sa, float(np.mean(sa)), n_nod, n_scans)
    if bootstrap > 0 and n_scans > 0:
        rng = np.random.default_rng(seed)
        cpms, sats = [], []
        for _ in range(bootstrap):
            pick = rng.integers(0, n_scans, n_scans)
            _, s2, f2, n2, _ = _curve([per_scan[k] for k in pick])
            if n2 == 0:
                continue
            a = _sens_at(s2, f2)
            sats.append(a)
            cpms.append(np.mean(a))
        if cpms:
            lo, hi = np.percentile(cpms, [2.5, 97.5])
            sat = np.asarray(sats)
            ci = tuple((float(np.percentile(sat[:, k], 2.5)), float(np.percentile(sat[:, k], 97.5)))
                       for k in range(len(FP_RATES)))
            result = FrocResult(fpr, sens, scores, sa, float(np.mean(sa)), n_nod, n_scans,
                                (float(lo), float(hi)), ci)
    return result


def write_csv(results: dict[str, FrocResult], path: Path) -> None:
    """One row per model and FP rate: sensitivity and its CI, then each model's CPM."""
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["model", "fps_per_scan", "sensitivity", "ci_low", "ci_high"])
        for name, r in results.items():
            for k, rate in enumerate(FP_RATES):
                ci = r.sens_at_ci[k] if r.sens_at_ci else ("", "")
                w.writerow([name, rate, f"{r.sens_at[k]:.4f}", *(f"{c:.4f}" if c != "" else "" for c in ci)])
            ci = r.cpm_ci or ("", "")
            w.writerow([name, "CPM", f"{r.cpm:.4f}", *(f"{c:.4f}" if c != "" else "" for c in ci)])


def plot(results: dict[str, FrocResult], path: Path, title: str = "FROC") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, r in results.items():
        x = np.concatenate([[1e-3], r.fps_per_scan])
        y = np.concatenate([[0.0], r.sensitivity])
        ax.step(np.maximum(x, 1e-3), y, where="post", label=f"{name} (CPM {r.cpm:.3f})")
    for rate in FP_RATES:
        ax.axvline(rate, color="0.85", lw=0.8, zorder=0)
    ax.set_xscale("log", base=2)
    ax.set_xlim(1 / 16, 16)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("false positives per scan")
    ax.set_ylabel("sensitivity")
    ax.set_title(title)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
