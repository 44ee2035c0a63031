"""``nodulelens info PATH``: what a scan is, without patient identifiers.

Prints modality, series description, dimensions, spacing, orientation, HU range, slice count and
the loader's warnings. Where PATH holds several series, lists them and the likely one.
"""

from __future__ import annotations

import argparse

import numpy as np

HELP = "describe a scan: modality, series, dimensions, spacing, orientation, HU range, warnings"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="DICOM folder or file, NIfTI (.nii/.nii.gz) or MetaImage (.mhd)")
    parser.add_argument("--series", default=None, metavar="UID",
                        help="SeriesInstanceUID to describe when PATH holds several series")


def _mm(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _vec(v) -> str:
    return "(" + ", ".join(_mm(float(x)) for x in v) + ")"


def _orientation(volume) -> str:
    d = volume.direction
    normal = d[:, 2]
    axis = int(np.argmax(np.abs(normal)))
    name = ("sagittal", "coronal", "axial")[axis] if abs(normal[axis]) > 0.985 else "oblique"
    return f"{name} (row direction {_vec(d[:, 0])}, column direction {_vec(d[:, 1])}, slice normal {_vec(normal)})"


def describe(volume) -> list[str]:
    """The lines ``info`` prints for a loaded volume."""
    info = volume.info
    z, y, x = volume.shape
    sx, sy, sz = volume.spacing_xyz
    lo, hi = int(volume.voxels.min()), int(volume.voxels.max())
    series = info.series_description or "(no description)"
    if info.series_number is not None:
        series += f", series number {info.series_number}"
    scanner = ", ".join(part for part in (
        info.manufacturer, info.manufacturer_model,
        f"{info.kvp:g} kVp" if info.kvp else "", f"kernel {info.convolution_kernel}" if info.convolution_kernel else "",
    ) if part)
    lines = [
        f"modality:      {info.modality or 'unknown'}",
        f"series:        {series}",
        f"dimensions:    {x} x {y} x {z} voxels (columns x rows x slices)",
        f"slices:        {z} slices of {x}x{y}",
        f"spacing:       {_mm(sx)}x{_mm(sy)}x{_mm(sz)} mm (x, y, z)",
        f"thickness:     {_mm(info.slice_thickness_mm) + ' mm' if info.slice_thickness_mm else 'unknown'}",
        f"orientation:   {_orientation(volume)}",
        f"origin:        {_vec(volume.origin)} mm LPS",
        f"HU range:      {lo} .. {hi}",
        f"scanner:       {scanner or 'unknown'}",
        f"series UID:    {info.series_instance_uid or 'none (not DICOM)'}",
    ]
    if info.warnings:
        lines.append(f"warnings:      {len(info.warnings)}")
        lines += [f"  - {w}" for w in info.warnings]
    else:
        lines.append("warnings:      none")
    return lines


def run(args: argparse.Namespace) -> int:
    from inference.imaging import MultipleSeries, choose_series, load

    try:
        volume = load(args.path, series_uid=args.series)
    except MultipleSeries as exc:
        if not exc.series or args.series is not None:
            raise
        best, reason = choose_series(list(exc.series))
        print(f"{args.path} holds {len(exc.series)} series:")
        for c in exc.series:
            print(f"  {c.summary()}")
        print(f"most likely: {best.uid} ({reason})")
        print("describe one with: nodulelens info PATH --series UID")
        return 2
    print("\n".join(describe(volume)))
    return 0
