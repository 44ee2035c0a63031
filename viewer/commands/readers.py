"""``nodulelens readers --db DB [--reference annotations.csv] --out DIR``: the reader-study log.

Per reader: decision time per finding and reading time per study (median, IQR), accept / reject
rates by AI score band; with a LUNA16 reference: sensitivity and false positives per scan of the AI
alone at its operating point versus the readers' final result, and their FROC plot (froc.png).
Reads the store only (opened read-only). Definitions: :mod:`viewer.review.readers`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "reader analytics from the review store: reading times, decisions by AI score, AI vs readers FROC"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, metavar="PATH", help="the review store to analyse")
    parser.add_argument("--reference", default=None, metavar="CSV",
                        help="LUNA16 annotations.csv (seriesuid,coordX,coordY,coordZ,diameter_mm)")
    parser.add_argument("--excluded", default=None, metavar="CSV",
                        help="LUNA16 annotations_excluded.csv: findings that count neither way")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the tables and froc.png")


def run(args: argparse.Namespace) -> int:
    from inference.training.froc import FrocError
    from viewer.review.errors import ReviewError, StoreReadOnly
    from viewer.review.readers import reader_report
    from viewer.review.readers_output import summary_lines, write_report
    from viewer.review.store import Store

    db = Path(args.db).expanduser()
    if not db.is_file():
        raise ReviewError(db, "is not a review store file", "Give the store written by the app or "
                          "`nodulelens screen` with --db")
    for given in (args.reference, args.excluded):
        if given is not None and not Path(given).is_file():
            raise ReviewError(given, "does not exist", "Give a LUNA16 CSV file (annotations.csv)")
    try:
        store = Store(db, read_only=True)
    except StoreReadOnly:  # a store from an older version: upgraded first (additive migrations only)
        store = Store(db)
    with store:
        try:
            report = reader_report(store, args.reference, args.excluded)
        except FrocError as exc:
            raise ReviewError(args.reference, str(exc), "Give a CSV with the LUNA16 columns "
                              "seriesuid,coordX,coordY,coordZ,diameter_mm") from exc
    for line in summary_lines(report):
        print(line)
    for path in write_report(report, args.out):
        print(f"wrote {path}")
    return 0
