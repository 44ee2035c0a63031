"""Reading scans for training and evaluation: the shared loader where it exists, else SimpleITK.

Also the reference-nodule regions of the two LIDC scans, which training must never sample from.
"""

from __future__ import annotations

from pathlib import Path

from inference.imaging import load
from inference.imaging.volume import Volume

#: (world LPS centre, radius mm) kept out of every training patch: LIDC-IDRI-0001's LUNA16 nodule
#: (diameter 23.35 mm) and LIDC-IDRI-0002's excluded ground-glass nodule (~23 mm), each with a
#: generous margin.
RESERVED_REGIONS = {
    "LIDC-IDRI-0001": ((56.21, 86.34, -115.87), 40.0),
    "LIDC-IDRI-0002": ((59.8, 71.5, -104.1), 40.0),
}


def read_scan(path: str | Path) -> Volume:
    """A CT Volume from a DICOM folder or an image file (:func:`inference.imaging.load`)."""
    return load(path)


def reserved_for(path: str | Path) -> list[tuple[tuple[float, float, float], float]]:
    """Reserved (centre, radius) regions of a scan, matched by its LIDC folder name."""
    p = str(path)
    return [v for k, v in RESERVED_REGIONS.items() if k in p]
