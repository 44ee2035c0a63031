"""Measure a model's operating-point table on held-out scans and (with ``--write``) put it into the
model card. ``python -m inference.training.operating_points --help``.

Every scored candidate of every scan is counted with the LUNA16 rules of
:mod:`inference.training.froc`; :func:`inference.training.operating_table.compute_set` turns the
per-scan outcomes into sensitivity and FP/scan at each threshold of the grid (and the card's own
operating threshold) with bootstrap 95 % CIs over scans.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable

from inference.training.evaluate import phantom_scans
from inference.training.froc import Detection, _score_scan
from inference.training.operating_table import (DEFAULT_FLOOR, GRID, TABLE_KEY, OperatingSet, OperatingTable,
                                                 ScanOutcome, compute_set)

KIND_DATA = {
    "shared": "held-out inference.phantom phantoms (seeds {a}-{b}, 160^3 at 1 mm, 3 random nodules each; "
              "training used seeds 1000-1059, tuning 100-119)",
    "synth": "held-out synthetic chests (inference.training.synth_chest seeds {a}-{b}, 160^3 at 1 mm; "
             "training used 1000-1003, tuning 2000-2009)",
}


def measure(model: str, kind: str, n: int, first_seed: int, command: str, bootstrap: int = 1000,
            log: Callable[[str], None] = print) -> OperatingSet:
    from inference.detection.detector import load_detector

    det = load_detector(model, "cpu")
    outcomes = []
    for uid, vol, refs in phantom_scans(kind, n, first_seed):
        found = det.candidates(vol)
        best, fps = _score_scan([Detection(uid, f.center, f.score) for f in found], refs, [])
        outcomes.append(ScanOutcome(tuple(float(b) for b in best), tuple(fps)))
        log(f"{uid}: {len(found)} candidates, {len(refs)} nodules")
    thresholds = tuple(sorted({*GRID, round(det.threshold, 4)}))
    data = KIND_DATA[kind].format(a=first_seed, b=first_seed + n - 1)
    return compute_set(outcomes, thresholds, data, command, bootstrap)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m inference.training.operating_points",
                                description="Sensitivity and FP/scan per score threshold, with 95 % CIs.")
    p.add_argument("--model", required=True, help="model folder (resources/models/<id>)")
    p.add_argument("--sets", nargs="+", default=["shared:0:20", "synth:5000:20"],
                   help="held-out sets as kind:first_seed:count (kind shared or synth)")
    p.add_argument("--bootstrap", type=int, default=1000)
    p.add_argument("--write", action="store_true", help="write the table into the model's manifest.json")
    a = p.parse_args(argv)
    command = "python -m inference.training.operating_points " + " ".join(argv if argv is not None
                                                                          else sys.argv[1:])
    sets = []
    for spec in a.sets:
        kind, first, count = spec.split(":")
        sets.append(measure(a.model, kind, int(count), int(first), command, a.bootstrap,
                            log=lambda m: print(m, flush=True)))
    table = OperatingTable(tuple(sets), DEFAULT_FLOOR)
    for s in sets:
        print(s.data)
        for r in s.rows:
            print(f"  t={r.threshold:.3f}  sens {r.sensitivity:.3f} ({r.sensitivity_ci95[0]:.3f}-"
                  f"{r.sensitivity_ci95[1]:.3f})  FP/scan {r.fps_per_scan:.2f} ({r.fps_per_scan_ci95[0]:.2f}-"
                  f"{r.fps_per_scan_ci95[1]:.2f})")
    if a.write:
        path = Path(a.model) / "manifest.json"
        card = json.loads(path.read_text())
        card[TABLE_KEY] = table.to_json()
        path.write_text(json.dumps(card, indent=2) + "\n")
        print(f"wrote {TABLE_KEY} into {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
