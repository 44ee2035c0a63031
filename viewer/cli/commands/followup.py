"""``nodulelens followup CURRENT [--prior PRIOR] [--db DB] --out changes.json``: compare an exam with its prior.

CURRENT and PRIOR are scan paths or Study/Series Instance UIDs. PRIOR defaults to the patient's
most recent earlier study with a CT series in the review store (or the reader's choice there). A
scan path the store does not know yet is screened first (``nodulelens screen``: detection in the
worker process). Prints each pair (or NEW / RESOLVED nodule) with its sizes, change, volume doubling
time and Lung-RADS v2022 with comparison, then the exam's category; writes the whole comparison
as JSON (``nodulelens-followup-v1``) to ``--out`` and keeps it in the store. A prior that cannot be
compared (another patient, not earlier, no lungs in common, files gone) is a one-line error and
status 2; the exam stays a baseline read.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from viewer.review.store import Store

HELP = "compare an exam with the patient's prior CT: nodule pairs, growth, doubling time, Lung-RADS with comparison"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("current", help="the current exam: scan path, StudyInstanceUID or SeriesInstanceUID")
    parser.add_argument("--prior", default=None, metavar="PRIOR",
                        help="the prior: scan path or UID (default: the patient's latest earlier study in the store)")
    parser.add_argument("--db", default=None, metavar="PATH", help="review store (default: the configured store)")
    parser.add_argument("--out", required=True, metavar="changes.json", help="JSON file to write")
    parser.add_argument("--model", default=None, help="model id for screening a scan the store does not know")


def _series_uid(store: "Store", key: str, model: str | None) -> str:
    from viewer.review.errors import UnknownStudy

    try:
        return str(store.series_row(key)["series_uid"])
    except UnknownStudy:
        if not Path(key).exists():
            raise
    from viewer.cli import main  # screen the scan first: detection runs in the worker process

    argv = ["screen", key, "--db", str(store.path), "--no-saliency"] + (["--model", model] if model else [])
    main(argv)
    return str(store.series_row(key)["series_uid"])


def _line(c: dict) -> str:
    cur, pri = c["current"], c["prior"]
    size = ""
    if pri and cur:
        size = (f"{pri['mean_diameter_mm']:.1f} → {cur['mean_diameter_mm']:.1f} mm "
                f"({c['diameter_change_mm']:+.1f} mm, volume {c['volume_change_pct']:+.0f} %), "
                f"doubling time {c['doubling_time_note']}")
    elif cur:
        size = f"{cur['mean_diameter_mm']:.1f} mm"
    elif pri:
        size = f"was {pri['mean_diameter_mm']:.1f} mm"
    who = f"{c['current_finding'] or '-'} ~ {c['prior_finding'] or '-'}"
    rads = f"Lung-RADS {c['lung_rads']}" if c["lung_rads"] else "not in the current exam"
    return f"  {c['status'].upper():8s} {who}: {size}; {rads}\n           {c['reason']}"


def run(args: argparse.Namespace) -> int:
    from inference.longitudinal.report import to_json_dict
    from viewer.review.comparisons import compare_in_store, ensure_dates
    from viewer.cli.open_store import open_store
    from viewer.review.settings import ReviewSettings, default_store_path

    with open_store(default_store_path(args.db, ReviewSettings())) as store:
        current = _series_uid(store, args.current, args.model)
        prior = _series_uid(store, args.prior, args.model) if args.prior else None
        ensure_dates(store, current)
        if prior:
            ensure_dates(store, prior)
        result, prior_study = compare_in_store(store, current, prior_series_uid=prior, actor="followup")
    data = to_json_dict(result)
    q = data["registration"]
    print(f"current {result.current_date} vs prior {result.prior_date} ({result.interval_days} days; "
          f"registration: lung Dice {q['lung_dice']:.3f}, {q['seconds']:.1f} s)")
    for c in data["nodules"]:
        print(_line(c))
    print(f"exam: Lung-RADS {result.exam_category.value}: {result.exam_reason}\n      {result.management}")
    for w in result.warnings:
        print(f"note: {w}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=1))
    print(f"wrote {out}")
    return 0
