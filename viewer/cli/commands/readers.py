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
    parser.add_argument("--bands", default="0.5,0.8,0.9,0.95", metavar="EDGES",
                        help="inner edges of the AI score bands, increasing, within 0..1 (default 0.5,0.8,0.9,0.95)")


def band_edges(text: str) -> tuple[float, ...]:
    """"0.5,0.8" -> (0.0, 0.5, 0.8, 1.0); raises ReviewError for anything else."""
    from viewer.review.errors import ReviewError

    try:
        inner = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        inner = [-1.0]
    edges = (0.0, *inner, 1.0)
    if any(not a < b for a, b in zip(edges, edges[1:], strict=False)):
        raise ReviewError(f"--bands {text}", "is not a list of increasing scores between 0 and 1",
                          "Give e.g. --bands 0.5,0.8,0.9,0.95")
    return edges


def run(args: argparse.Namespace) -> int:
    from inference.training.froc import FrocError
    from viewer.review.errors import ReviewError, StoreReadOnly
    from viewer.review.readers import reader_report
    from viewer.review.readers_output import summary_lines, write_report
    from viewer.cli.open_store import open_store

    band_edges(args.bands)  # refused before anything is read
    db = Path(args.db).expanduser()
    if not db.is_file():
        raise ReviewError(db, "is not a review store file", "Give the store written by the app or "
                          "`nodulelens screen` with --db")
    for given in (args.reference, args.excluded):
        if given is not None and not Path(given).is_file():
            raise ReviewError(given, "does not exist", "Give a LUNA16 CSV file (annotations.csv)")
    try:
        store = open_store(db, read_only=True)
    except StoreReadOnly:  # a store from an older version: upgraded first (additive migrations only)
        store = open_store(db)
    with store:
        try:
            report = reader_report(store, args.reference, args.excluded, band_edges(args.bands))
        except FrocError as exc:
            raise ReviewError(args.reference, str(exc), "Give a CSV with the LUNA16 columns "
                              "seriesuid,coordX,coordY,coordZ,diameter_mm") from exc
    for line in summary_lines(report):
        print(line)
    for path in write_report(report, args.out):
        print(f"wrote {path}")
    return 0
