"""``nodulelens demo --out DIR``: write the built-in demo phantom as a DICOM series with its truth.

DIR/dicom/CT0001.dcm…  the series (CT Image Storage, one file per slice; open it with
                      ``nodulelens open DIR/dicom``)
DIR/truth.json        each nodule's world centre (LPS mm), diameter, volume, type and attachment
DIR/annotations.csv   the same nodules in LUNA16's format (seriesuid,coordX,coordY,coordZ,diameter_mm)
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

HELP = "write the demo phantom (synthetic chest CT with known nodules) as DICOM + truth files"

SIZES = {"full": ((300, 512, 512), (1.0, 0.7, 0.7)), "small": ((64, 128, 128), (2.0, 2.0, 2.0))}


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a non-negative integer")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, type=Path, metavar="DIR",
                        help="folder to create; the series goes to DIR/dicom")
    parser.add_argument("--size", choices=sorted(SIZES), default="full",
                        help="full: 512x512x300 at 0.7x0.7x1 mm (default); small: 128x128x64 at 2 mm")
    parser.add_argument("--seed", type=_seed, default=None,
                        help="another phantom with the same five nodules placed by this seed")


def write_truth(out: Path, phantom, series_uid: str, size: str) -> tuple[Path, Path]:
    """truth.json and annotations.csv of a phantom written with ``series_uid``."""
    vol = phantom.volume
    truth = {
        "format": "nodulelens-phantom-truth",
        "version": 1,
        "seed": phantom.seed,
        "size": size,
        "series_instance_uid": series_uid,
        "shape_zyx": list(vol.shape),
        "spacing_zyx_mm": [round(s, 6) for s in vol.spacing_zyx],
        "origin_lps_mm": [round(c, 6) for c in vol.origin],
        "coordinates": "world LPS mm (DICOM patient frame), like LUNA16 coordX/Y/Z",
        "nodules": [n.as_dict() for n in phantom.nodules],
    }
    truth_path = out / "truth.json"
    truth_path.write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    csv_path = out / "annotations.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["seriesuid", "coordX", "coordY", "coordZ", "diameter_mm"])
        for n in phantom.nodules:
            w.writerow([series_uid, *(f"{c:.3f}" for c in n.center), f"{n.diameter_mm:.2f}"])
    return truth_path, csv_path


def run(args: argparse.Namespace) -> int:
    from inference.imaging.dicom_writer import check_out_dir, write_series
    from inference.phantom import DEMO_SEED, demo_phantom, demo_specs, make_phantom

    check_out_dir(args.out / "dicom")  # before minutes of work, not after
    shape, spacing = SIZES[args.size]
    seed = DEMO_SEED if args.seed is None else args.seed
    print(f"building the {args.size} demo phantom (seed {seed}, {shape[2]}x{shape[1]}x{shape[0]})…",
          flush=True)
    if args.seed is None:
        phantom = demo_phantom(shape, spacing)
    else:
        phantom = make_phantom(seed, shape, spacing, nodules=demo_specs())
    out: Path = args.out
    paths = write_series(phantom.volume, out / "dicom",
                         series_description=f"NoduleLens demo phantom ({args.size}, seed {seed})",
                         patient_id=f"SYNTHETIC-DEMO-{seed}",
                         uid_seed=f"nodulelens-demo-{seed}-{args.size}")
    import pydicom

    series_uid = str(pydicom.dcmread(paths[0], stop_before_pixels=True).SeriesInstanceUID)
    truth_path, csv_path = write_truth(out, phantom, series_uid, args.size)
    print(f"wrote {len(paths)} DICOM files to {out / 'dicom'}")
    print(f"wrote {truth_path} and {csv_path} ({len(phantom.nodules)} nodules)")
    for n in phantom.nodules:
        x, y, z = n.center
        print(f"  {n.nodule_id}: {n.nodule_type.value} {n.diameter_mm:g} mm "
              f"({n.attachment.value}) at ({x:.1f}, {y:.1f}, {z:.1f}) mm, {n.volume_mm3:.0f} mm3")
    return 0
