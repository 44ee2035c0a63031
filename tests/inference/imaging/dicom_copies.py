"""Copies of real LIDC slices for tests that damage them (imported by the imaging tests)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pydicom


def series_files(folder: Path) -> list[Path]:
    """The .dcm files of a LIDC patient folder, in slice order (by position along z)."""
    files = sorted(folder.rglob("*.dcm"))
    z = {f: float(pydicom.dcmread(f, stop_before_pixels=True).ImagePositionPatient[2]) for f in files}
    return sorted(files, key=z.__getitem__)


def copy_slices(folder: Path, dst: Path, n: int, start: int = 40) -> list[Path]:
    """Copy ``n`` consecutive slices (in z order, from index ``start``) into ``dst``."""
    dst.mkdir(parents=True, exist_ok=True)
    out = []
    for k, f in enumerate(series_files(folder)[start:start + n]):
        target = dst / f"slice{k:03d}.dcm"
        shutil.copyfile(f, target)
        out.append(target)
    return out


def edit(path: Path, **values) -> None:
    """Set header values of one file in place."""
    ds = pydicom.dcmread(path)
    for key, value in values.items():
        setattr(ds, key, value)
    ds.save_as(path)
