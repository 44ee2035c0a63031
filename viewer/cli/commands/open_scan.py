"""`nodulelens open PATH` (and `nodulelens` alone): the viewer on a scan or on the demo phantom."""

from __future__ import annotations

import argparse

HELP = "open the viewer on a scan (DICOM folder or file, NIfTI, MetaImage); no PATH: the demo phantom"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=None, help="scan to open; omit for the built-in demo phantom")
    parser.add_argument("--series", default=None, metavar="UID", help="SeriesInstanceUID when the folder holds several")
    parser.add_argument("--layout", default="2x2", choices=("2x2", "single", "axial3d"), help="initial layout")
    parser.add_argument("--db", default=None, metavar="PATH", help="review store (SQLite file); default: settings or "
                        "the user data folder")
    parser.add_argument("--no-detect", action="store_true",
                        help="do not run detection automatically on a scan without stored findings")


def run(args: argparse.Namespace) -> int:
    from viewer.app import run as run_app

    path = None if args.path in (None, "demo") else args.path
    return run_app(path, args.series, args.layout, db=args.db, auto_detect=not args.no_detect)
