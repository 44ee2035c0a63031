"""``nodulelens export STUDY --format sr|seg|pmap|pdf|sc|csv|json --out PATH``: export a reviewed study.

STUDY is a StudyInstanceUID, SeriesInstanceUID or scan path known to the review store.
"""

from __future__ import annotations

import argparse
import sys

HELP = ("export a reviewed study: DICOM SR (TID 1500), SEG, saliency Parametric Map, PDF report "
        "(+ Encapsulated PDF), Secondary Capture key images, LUNA16 CSV, JSON")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", help="StudyInstanceUID, SeriesInstanceUID or scan path in the store")
    parser.add_argument("--db", default=None, metavar="PATH",
                        help="review store (SQLite) to read; default: the configured store")
    parser.add_argument("--format", required=True,
                        choices=("sr", "seg", "pmap", "pdf", "sc", "csv", "json"),
                        help="sr = SR with the SEG and Parametric Maps it references (a folder); "
                        "seg = one SEG file; pmap = one Parametric Map per finding (a folder); "
                        "pdf = Lung-RADS report: report.pdf + report.dcm (Encapsulated PDF) (a folder); "
                        "sc = key images as DICOM Secondary Capture (a folder); "
                        "csv = LUNA16 candidates; json = everything, versioned schema")
    parser.add_argument("--reviewed", action="store_true",
                        help="csv: write the accepted and added nodules with diameter_mm "
                        "(LUNA16 annotations layout) instead of the AI candidates")
    parser.add_argument("--deidentify", action="store_true",
                        help="apply the DICOM PS3.15 basic profile (UIDs remapped consistently) and "
                        "write the de-identification record with the export: deidentification.json "
                        "inside a folder export, <file name>.deidentification.json beside a file")
    parser.add_argument("--with-ct", action="store_true",
                        help="also write the source CT series to ct/ beside the output (de-identified "
                        "with the same UID map under --deidentify, so the objects lie on it)")
    parser.add_argument("--out", required=True, metavar="PATH",
                        help="file or folder to write; an existing one is refused unless --force. "
                        "Without --deidentify the files are private (0600, new folders 0700)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite an existing output (files of the same names in the folder)")


def run(args: argparse.Namespace) -> int:
    from viewer.export.from_store import export_from_store
    from viewer.cli.open_store import open_store

    with open_store(args.db) as store:
        result, notes = export_from_store(store, args.study, args.format, args.out,
                                          deidentify=args.deidentify, reviewed_csv=args.reviewed,
                                          with_ct=args.with_ct, force=args.force)
    for note in notes:
        print(f"nodulelens export: warning: {note}", file=sys.stderr)
    for path in result.files:
        print(path)
    return 0
