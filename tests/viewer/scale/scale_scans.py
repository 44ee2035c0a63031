"""A folder of small phantom CT series (one nodule each) plus one with a truncated slice file."""

from __future__ import annotations

from pathlib import Path

from inference.imaging.dicom_writer import write_series
from inference.phantom import NoduleSpec, make_phantom

SHAPE_ZYX = (24, 64, 64)
SPACING_ZYX = (2.5, 2.5, 2.5)
CORRUPT = "zz-corrupt"


def write_scans(root: Path, n: int, prefix: str = "p") -> list[Path]:
    """``n`` phantom series ``root/<prefix>NN`` and ``root/zz-corrupt`` (slice 11 cut short)."""
    folders = []
    for i in range(n):
        phantom = make_phantom(i, SHAPE_ZYX, SPACING_ZYX, nodules=[NoduleSpec(None, 12.0)], noise_hu=10.0)
        folder = root / f"{prefix}{i:02d}"
        write_series(phantom.volume, folder, uid_seed=f"scale-{prefix}-{i}", patient_id=f"{prefix.upper()}{i:02d}")
        folders.append(folder)
    bad = make_phantom(1000, SHAPE_ZYX, SPACING_ZYX, noise_hu=10.0)
    paths = write_series(bad.volume, root / CORRUPT, uid_seed=f"scale-{prefix}-corrupt", patient_id="BROKEN")
    data = paths[10].read_bytes()
    paths[10].write_bytes(data[: len(data) - 5000])
    return folders
