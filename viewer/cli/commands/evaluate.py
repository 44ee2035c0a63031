"""``nodulelens evaluate``: FROC/CPM (LUNA16 rules) of models side by side, in a subprocess.

Detection needs torch, which this process never imports: the work runs in
``python -m inference.training.evaluate``; this command forwards its arguments and streams its
per-scan log. Inputs: scans + a LUNA16-format annotations CSV (and annotations_excluded.csv), or
held-out synthetic scans. Outputs: froc.png, froc.csv, summary.json, candidates CSV per model.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

HELP = "FROC / CPM of detectors side by side (LUNA16 rules, bootstrap CI, plot + CSV)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scans", nargs="*", help="DICOM folders or image files")
    parser.add_argument("--annotations", help="LUNA16 annotations.csv (seriesuid, coordX/Y/Z, diameter_mm)")
    parser.add_argument("--excluded", help="LUNA16 annotations_excluded.csv (count neither way)")
    parser.add_argument("--models", nargs="+", default=["classical"],
                        help="model ids to compare (default: classical)")
    parser.add_argument("--phantoms", type=int, default=0, help="add N held-out synthetic scans")
    parser.add_argument("--phantom-kind", choices=["synth", "shared"], default="synth",
                        help="synth: training-renderer chests, seeds 5000+; shared: inference.phantom")
    parser.add_argument("--first-seed", type=int, default=5000)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default="evaluation", help="folder for the plot, CSV and summary")
    parser.add_argument("--candidates", nargs="+", metavar="CSV",
                        help="score existing LUNA16 candidate files (seriesuid,coordX,coordY,coordZ,"
                        "probability; e.g. from `nodulelens export --format csv`) against --annotations "
                        "instead of running a detector")
    parser.add_argument("--seriesuids", metavar="CSV",
                        help="with --candidates: the evaluated scans (LUNA16 seriesuids.csv); default: "
                        "the series named in the candidate files")


def command(args: argparse.Namespace) -> list[str]:
    cmd = [sys.executable, "-m", "inference.training.evaluate", "--models", *args.models,
           "--phantoms", str(args.phantoms), "--phantom-kind", args.phantom_kind,
           "--first-seed", str(args.first_seed), "--bootstrap", str(args.bootstrap),
           "--device", args.device, "--out", str(args.out)]
    if args.scans:
        cmd += ["--scans", *args.scans]
    if args.annotations:
        cmd += ["--annotations", args.annotations]
    if args.excluded:
        cmd += ["--excluded", args.excluded]
    return cmd


def score_candidates(args: argparse.Namespace) -> int:
    """FROC of candidate CSVs against annotations, in this process (no detector, no torch)."""
    from pathlib import Path

    from inference.training.froc import FP_RATES, froc, plot, read_annotations, read_candidates, write_csv

    if not args.annotations:
        print("nodulelens evaluate: --candidates needs --annotations (LUNA16 annotations.csv)", file=sys.stderr)
        return 2
    refs = read_annotations(args.annotations)
    excluded = read_annotations(args.excluded) if args.excluded else {}
    runs = {Path(c).stem: read_candidates(c) for c in args.candidates}
    if args.seriesuids:
        with open(args.seriesuids, newline="") as fh:
            scans = sorted({line.split(",")[0].strip() for line in fh if line.strip()} - {"seriesuid"})
    else:
        scans = sorted({d.series_uid for dets in runs.values() for d in dets})
    results = {}
    for name, dets in runs.items():
        dets = [d for d in dets if d.series_uid in set(scans)]
        results[name] = r = froc(dets, refs, scans, excluded, bootstrap=args.bootstrap)
        ci = f" (95 % CI {r.cpm_ci[0]:.3f}-{r.cpm_ci[1]:.3f})" if r.cpm_ci else ""
        sens = ", ".join(f"{rate:g}: {s:.3f}" for rate, s in zip(FP_RATES, r.sens_at, strict=True))
        print(f"{name}: {r.n_scans} scans, {r.n_nodules} nodules, CPM {r.cpm:.3f}{ci}; sensitivity at "
              f"FPs/scan {sens}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(results, out / "froc.csv")
    plot(results, out / "froc.png")
    print(f"wrote {out / 'froc.csv'} and {out / 'froc.png'}")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.candidates:
        return score_candidates(args)
    if not args.scans and not args.phantoms:
        print("nodulelens evaluate: give scans (with --annotations) and/or --phantoms N", file=sys.stderr)
        return 2
    return subprocess.call(command(args))
