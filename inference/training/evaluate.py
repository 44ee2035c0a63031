"""Evaluation runner: detectors side by side on scans + LUNA16-format annotations, or on held-out
synthetic scans. ``python -m inference.training.evaluate --help``.

Writes to ``--out``: per model a LUNA16-style candidates CSV (seriesuid,coordX,coordY,coordZ,
probability), ``froc.csv`` and ``froc.png`` (all models), ``summary.json`` (CPM with bootstrap
95 % CI, sensitivity at each FP rate, and per scan the top finding and the false positives at
the model's operating threshold).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

from inference.training.froc import (FP_RATES, Detection, Reference, froc, plot, read_annotations,
                                     write_csv)


def phantom_scans(kind: str, n: int, first_seed: int):
    """(uid, Volume, [Reference]) for held-out synthetic scans, 160^3 at 1 mm."""
    for seed in range(first_seed, first_seed + n):
        if kind == "synth":
            from inference.training.synth_chest import EVAL_SEEDS, TUNE_SEEDS, make_synth_chest

            if seed not in EVAL_SEEDS and seed not in TUNE_SEEDS:
                raise SystemExit(f"seed {seed} is a training seed; evaluate on {EVAL_SEEDS.start}+ "
                                 f"(or {TUNE_SEEDS.start}+ to choose a threshold)")
            s = make_synth_chest(seed)
            refs = [Reference(nd.center, nd.diameter_mm) for nd in s.nodules]
            yield f"synth-{seed}", s.volume, refs
        else:
            from inference.phantom import make_phantom
            from inference.training.dataset import PHANTOM_TRAIN_SEEDS

            if seed in PHANTOM_TRAIN_SEEDS:
                raise SystemExit(f"phantom seed {seed} is a training seed "
                                 f"({PHANTOM_TRAIN_SEEDS.start}-{PHANTOM_TRAIN_SEEDS.stop - 1}); "
                                 f"evaluate on seeds 0-999")
            p = make_phantom(seed, shape_zyx=(160, 160, 160), spacing_zyx=(1.0, 1.0, 1.0), n_random=3)
            refs = [Reference(nd.center, nd.diameter_mm) for nd in p.nodules]
            yield f"phantom-{seed}", p.volume, refs


def real_scans(paths: list[Path]):
    from inference.training.scans import read_scan

    for p in paths:
        v = read_scan(p)
        yield v.info.series_instance_uid or p.name, v, None


def evaluate(models: list[str], scans, annotations: dict, excluded: dict, out: Path,
             bootstrap: int = 1000, device: str = "cpu", log=print) -> dict:
    from inference.detection.detector import load_detector

    out.mkdir(parents=True, exist_ok=True)
    loaded = [load_detector(m, device) for m in models]
    detectors = {d.model_info.model_id: d for d in loaded}
    models = list(detectors)
    dets: dict[str, list[Detection]] = {m: [] for m in models}
    per_scan: dict[str, dict] = {m: {} for m in models}
    ids = []
    seconds = {m: 0.0 for m in models}
    for uid, vol, refs in scans:
        ids.append(uid)
        if refs is not None:
            annotations.setdefault(uid, []).extend(refs)
        for m, det in detectors.items():
            t = time.perf_counter()
            found = det.candidates(vol)
            seconds[m] += time.perf_counter() - t
            dets[m] += [Detection(uid, f.center, f.score) for f in found]
            per_scan[m][uid] = _scan_summary(found, annotations.get(uid, []),
                                             excluded.get(uid, []), det.threshold)
        log(f"{uid}: " + "; ".join(f"{m}: top hit={per_scan[m][uid]['top_is_hit']}, "
                                   f"FP@op={per_scan[m][uid]['fps_at_operating_point']}"
                                   for m in models))
    results = {m: froc(dets[m], annotations, ids, excluded, bootstrap=bootstrap) for m in models}
    for m in models:
        with open(out / f"candidates_{m}.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["seriesuid", "coordX", "coordY", "coordZ", "probability"])
            for d in dets[m]:
                w.writerow([d.series_uid, *(f"{c:.2f}" for c in d.center), f"{d.score:.5f}"])
    write_csv(results, out / "froc.csv")
    plot(results, out / "froc.png", title=f"FROC, {len(ids)} scans")
    summary = {m: {
        "cpm": round(r.cpm, 4), "cpm_ci95": [round(c, 4) for c in r.cpm_ci] if r.cpm_ci else None,
        "sensitivity_at_fps": {str(k): round(v, 4) for k, v in zip(FP_RATES, r.sens_at, strict=True)},
        "n_scans": r.n_scans, "n_nodules": r.n_nodules,
        "operating_threshold": detectors[m].threshold,
        "fps_per_scan_at_operating_point": round(r.fps_at_threshold(detectors[m].threshold), 4),
        "sensitivity_at_operating_point": round(r.sensitivity_at_threshold(detectors[m].threshold), 4),
        "threshold_for_quarter_fp_per_scan": _threshold_for(r, 0.25),
        "detection_seconds_total": round(seconds[m], 1), "per_scan": per_scan[m],
    } for m, r in results.items()}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _threshold_for(r, fps_per_scan: float) -> float | None:
    """The lowest score threshold with at most ``fps_per_scan`` false positives per scan."""
    ok = np.nonzero(r.fps_per_scan <= fps_per_scan + 1e-12)[0]
    return round(float(r.thresholds[ok[-1]]), 4) if len(ok) else None


def _scan_summary(found, refs: list[Reference], excl: list[Reference], threshold: float) -> dict:
    def hit(c, items, default=None):
        for r in items:
            d = r.diameter_mm if r.diameter_mm > 0 else 10.0
            if np.linalg.norm(np.asarray(c) - np.asarray(r.center)) <= d / 2:
                return True
        return False

    above = [f for f in found if f.score >= threshold]
    fps = [f for f in above if not hit(f.center, refs) and not hit(f.center, excl)]
    top = found[0] if found else None
    return {
        "top_is_hit": bool(top is not None and hit(top.center, refs)),
        "top_score": round(top.score, 4) if top else None,
        "top_center": [round(c, 2) for c in top.center] if top else None,
        "findings_at_operating_point": len(above),
        "fps_at_operating_point": len(fps),
        "n_reference": len(refs),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m inference.training.evaluate",
                                description="FROC/CPM (LUNA16 rules) of detectors side by side.")
    p.add_argument("--models", nargs="+", default=["classical"])
    p.add_argument("--scans", nargs="*", type=Path, default=[], help="DICOM folders / image files")
    p.add_argument("--annotations", type=Path, help="LUNA16 annotations.csv")
    p.add_argument("--excluded", type=Path, help="LUNA16 annotations_excluded.csv")
    p.add_argument("--phantoms", type=int, default=0, help="held-out synthetic scans to add")
    p.add_argument("--phantom-kind", choices=["synth", "shared"], default="synth")
    p.add_argument("--first-seed", type=int, default=5000)
    p.add_argument("--bootstrap", type=int, default=1000)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", type=Path, default=Path("evaluation"))
    a = p.parse_args(argv)
    ann = read_annotations(a.annotations) if a.annotations else {}
    exc = read_annotations(a.excluded) if a.excluded else {}

    def scans():
        yield from real_scans(a.scans)
        if a.phantoms:
            yield from phantom_scans(a.phantom_kind, a.phantoms, a.first_seed)

    if not a.scans and not a.phantoms:
        p.error("give --scans and/or --phantoms")
    summary = evaluate(a.models, scans(), ann, exc, a.out, a.bootstrap, a.device,
                       log=lambda m: print(m, flush=True))
    for m, s in summary.items():
        ci = s["cpm_ci95"]
        print(f"{m}: CPM {s['cpm']:.3f}" + (f" (95% CI {ci[0]:.3f}-{ci[1]:.3f})" if ci else "")
              + "  sens@FP/scan " + " ".join(f"{k}:{v:.2f}" for k, v in s["sensitivity_at_fps"].items())
              + f"  FP/scan@op {s['fps_per_scan_at_operating_point']}")
    print(f"wrote {a.out}/froc.png, froc.csv, summary.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
