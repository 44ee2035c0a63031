"""Choosing a candidate CNN's operating point on tuning scans (never the evaluation scans).

``python -m inference.training.tune --model nodulelens-cnn-v2 --phantoms 20 --first-seed 100``
scores every candidate of every tuning scan once, then for each blend weight ``w`` (final score =
p_cnn^(1-w) * s_blob^w, s_blob the classical score) prints the CPM, the sensitivity at each FP
rate, the classical baseline's on the same scans, and the lowest threshold with at most
``--max-fps`` false positives per scan. Tuning seeds: inference.phantom 100-999, synthetic chests
2000-2999 (:data:`inference.training.synth_chest.TUNE_SEEDS`).
"""

from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np

from inference.training.froc import FP_RATES, Detection, froc

#: inference.phantom seeds for choosing an operating point (evaluation uses 0-99)
PHANTOM_TUNE_SEEDS = range(100, 1000)


def blend(p_cnn: np.ndarray, s_blob: np.ndarray, w: float) -> np.ndarray:
    return np.asarray(p_cnn) ** (1.0 - w) * np.maximum(np.asarray(s_blob), 1e-6) ** w


def scored_candidates(model: str, scans, device: str = "cpu", log=print):
    """Per scan (uid, refs, centres (N, 3), p_cnn (N,), s_blob (N,))."""
    from dataclasses import replace

    from inference.detection.detector import load_detector
    from inference.detection.pipeline import CLASSICAL_SCALE, CandidateCnnDetector

    det = load_detector(model, device)
    if not isinstance(det, CandidateCnnDetector):
        raise SystemExit(f"{model}: a classical model has no CNN score to blend; name a trained one")
    det.manifest = replace(det.manifest, network={**det.manifest.network, "blob_score_weight": 0.0})
    out = []
    for uid, vol, refs in scans:
        found = det.candidates(vol)
        c = np.array([f.center for f in found]).reshape(-1, 3)
        p = np.array([f.score for f in found])
        b = np.array([1.0 - math.exp(-f.extra["blob_response"] / CLASSICAL_SCALE) for f in found])
        out.append((uid, refs, c, p, b))
        log(f"{uid}: {len(found)} candidates")
    return out


def sweep(scored, weights, max_fps: float = 0.25) -> dict:
    ann = {uid: refs for uid, refs, *_ in scored}
    ids = list(ann)

    def result(score_of):
        dets = [Detection(uid, tuple(cc), float(s)) for uid, _, c, p, b in scored
                for cc, s in zip(c, score_of(p, b), strict=True)]
        r = froc(dets, ann, ids)
        ok = np.nonzero(r.fps_per_scan <= max_fps + 1e-12)[0]
        thr = float(r.thresholds[ok[-1]]) if len(ok) else None
        return {"cpm": round(r.cpm, 4), "sens": [round(v, 4) for v in r.sens_at],
                "threshold": None if thr is None else round(thr, 4)}

    table = {"classical": result(lambda p, b: b)}
    for w in weights:
        table[f"w={w:g}"] = result(lambda p, b, w=w: blend(p, b, w))
    return table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m inference.training.tune",
                                 description="Blend weight and threshold on tuning scans.")
    ap.add_argument("--model", required=True)
    ap.add_argument("--phantoms", type=int, default=20)
    ap.add_argument("--phantom-kind", choices=["synth", "shared"], default="shared")
    ap.add_argument("--first-seed", type=int, default=100)
    ap.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.3, 0.5, 0.7, 0.85])
    ap.add_argument("--max-fps", type=float, default=0.25,
                    help="the threshold printed is the lowest with at most this many FP/scan")
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args(argv)
    seeds = range(a.first_seed, a.first_seed + a.phantoms)
    if a.phantom_kind == "shared" and not set(seeds) <= set(PHANTOM_TUNE_SEEDS):
        ap.error(f"--first-seed {a.first_seed}: tuning phantoms are seeds "
                 f"{PHANTOM_TUNE_SEEDS.start}-{PHANTOM_TUNE_SEEDS.stop - 1}")
    from inference.training.evaluate import phantom_scans

    scored = scored_candidates(a.model, phantom_scans(a.phantom_kind, a.phantoms, a.first_seed),
                               a.device, log=lambda m: print(m, flush=True))
    table = sweep(scored, a.weights, a.max_fps)
    print("FP/scan rates: " + " ".join(f"{r:g}" for r in FP_RATES))
    for k, v in table.items():
        print(f"{k:>10}: CPM {v['cpm']:.3f}  sens " + " ".join(f"{s:.2f}" for s in v["sens"])
              + f"  threshold@{a.max_fps:g}FP {v['threshold']}")
    print(json.dumps(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
