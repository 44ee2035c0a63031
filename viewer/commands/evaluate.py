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


def run(args: argparse.Namespace) -> int:
    if not args.scans and not args.phantoms:
        print("nodulelens evaluate: give scans (with --annotations) and/or --phantoms N", file=sys.stderr)
        return 2
    return subprocess.call(command(args))
