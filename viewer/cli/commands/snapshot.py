"""`nodulelens snapshot PATH --out shot.png`: render the window layout offscreen into one PNG."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HELP = "render the viewer layout (axial, coronal, sagittal, 3D) offscreen to a PNG"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="scan to render (DICOM folder or file, NIfTI, MetaImage) or 'demo'")
    parser.add_argument("--out", required=True, type=Path, help="PNG file to write")
    parser.add_argument("--findings", type=Path, default=None, help="findings JSON (from `nodulelens detect`)")
    parser.add_argument("--layout", default="2x2", choices=("2x2", "axial", "axial3d"))
    parser.add_argument("--series", default=None, metavar="UID", help="SeriesInstanceUID when the folder holds several")
    parser.add_argument("--size", type=int, default=512, help="pixels per view (square), default 512")
    parser.add_argument("--at", type=float, nargs=3, default=None, metavar=("X", "Y", "Z"),
                        help="world LPS mm point to centre the planes on "
                             "(default: the first finding, else the scan centre)")
    parser.add_argument("--slab", type=float, default=None, metavar="MM", help="thick-slab MIP of this thickness")
    parser.add_argument("--demo-truth", action="store_true", help="with 'demo': draw the phantom's true nodules")


def _headless_setup() -> None:
    """Without an X display, VTK renders through OSMesa (see DEVELOPERS.md)."""
    if not os.environ.get("DISPLAY") and sys.platform.startswith("linux"):
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkOSOpenGLRenderWindow")


def run(args: argparse.Namespace) -> int:
    _headless_setup()
    from viewer.cli.snapshot_render import render_snapshot

    out = render_snapshot(
        args.path, args.out, findings_path=args.findings, layout=args.layout, series_uid=args.series,
        size=args.size, at=tuple(args.at) if args.at else None, slab_mm=args.slab, demo_truth=args.demo_truth,
    )
    print(out)
    return 0
