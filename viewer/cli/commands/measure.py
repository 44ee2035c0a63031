"""``nodulelens measure PATH --at X,Y,Z [--json]``: measure, type and score the nodule at a point.

The point is in world LPS mm (as `nodulelens detect` and the viewer report them). Prints the
measurement, the nodule type, the Brock (PanCan) malignancy risk with the clinical inputs that took
their default, and the Lung-RADS v2022 category with its management; ``--json`` prints one JSON
object whose keys name each value and its unit.
"""

from __future__ import annotations

import argparse
import json

HELP = "measure the nodule at a world point: size, type, Brock risk, Lung-RADS v2022"


def _point(text: str) -> tuple[float, float, float]:
    try:
        vals = tuple(float(v) for v in text.replace(" ", "").split(","))
    except ValueError:
        vals = ()
    if len(vals) != 3:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a point: give three numbers in world LPS mm, e.g. --at 56.2,86.3,-115.9")
    return vals


def _yes_no(text: str) -> bool:
    t = text.strip().lower()
    if t in ("yes", "y", "true", "1"):
        return True
    if t in ("no", "n", "false", "0"):
        return False
    raise argparse.ArgumentTypeError(f"'{text}': answer yes or no")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="DICOM folder or file, NIfTI (.nii/.nii.gz) or MetaImage (.mha/.mhd)")
    parser.add_argument("--at", required=True, type=_point, metavar="X,Y,Z",
                        help="the nodule's centre (or any point on it) in world LPS mm")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--series", default=None, metavar="UID",
                        help="SeriesInstanceUID to read when PATH holds several series")
    parser.add_argument("--age", type=float, default=None,
                        help="patient age in years (default: from the DICOM header, else 62)")
    parser.add_argument("--sex", choices=("M", "F"), default=None,
                        help="patient sex (default: from the DICOM header, else F)")
    parser.add_argument("--family-history", type=_yes_no, default=None, metavar="yes|no",
                        help="family history of lung cancer (default: no)")
    parser.add_argument("--emphysema", type=_yes_no, default=None, metavar="yes|no",
                        help="emphysema on the scan (default: no)")
    parser.add_argument("--spiculated", type=_yes_no, default=None, metavar="yes|no",
                        help="spiculated margin (default: no)")
    parser.add_argument("--nodule-count", type=int, default=1, metavar="N",
                        help="number of nodules in the scan, for the Brock model (default 1)")


def _text(a, at) -> str:
    m = a.measurement
    risk = "n/a" if a.malignancy_risk is None else f"{100 * a.malignancy_risk:.1f} %"
    lines = [
        f"nodule at ({at[0]:.1f}, {at[1]:.1f}, {at[2]:.1f}) mm LPS",
        f"  type                {a.nodule_type.value}{' (calcified)' if a.calcified else ''}"
        f"{', juxta-pleural' if a.juxta_pleural else ''}",
        f"  long / short axis   {m.long_axis_mm:.1f} / {m.short_axis_mm:.1f} mm (axial)",
        f"  mean diameter       {m.mean_diameter_mm:.1f} mm",
        f"  max 3D diameter     {m.max_3d_diameter_mm:.1f} mm",
        f"  volume              {m.volume_mm3:.0f} mm3",
        f"  HU mean / max       {m.mean_hu:.0f} / {m.max_hu:.0f}",
    ]
    if m.solid_component_mm is not None:
        lines.append(f"  solid component     {m.solid_component_mm:.1f} mm")
    where = " ".join(v.value for v in (a.side, a.zone) if v is not None) or "unknown"
    lines += [
        f"  location            {where} ({a.location_note})",
        f"  malignancy risk     {risk} (Brock/PanCan)"
        + (f"; defaults used for: {', '.join(a.risk_defaults_used)}" if a.risk_defaults_used else ""),
        f"  Lung-RADS v2022     {a.lung_rads.value}: {a.lung_rads_reason}",
        f"  management          {a.management}",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from inference.imaging import load
    from inference.domain import analysis_codec
    from inference.nodules import ClinicalInputs, analyze

    if args.nodule_count < 1:
        raise SystemExit("nodulelens measure: --nodule-count must be at least 1")
    volume = load(args.path, series_uid=args.series)
    header = ClinicalInputs.from_series_info(volume.info)
    clinical = ClinicalInputs(
        age_years=args.age if args.age is not None else header.age_years,
        sex=args.sex if args.sex is not None else header.sex,
        family_history=args.family_history, emphysema=args.emphysema,
        spiculation=args.spiculated)
    result = analyze(volume, args.at, clinical=clinical, nodule_count=args.nodule_count)
    a = result.analysis
    if args.json:
        out = {"source": str(args.path), "point_lps_mm": list(args.at), **analysis_codec.to_dict(a)}
        print(json.dumps(out, indent=2))
    else:
        print(_text(a, args.at))
    return 0
