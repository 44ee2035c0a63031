"""Reading scans for training and evaluation: the shared loader where it exists, else SimpleITK.

Also the reference-nodule regions of the two LIDC scans, which training must never sample from.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inference.imaging.volume import SeriesInfo, Volume

#: (world LPS centre, radius mm) kept out of every training patch: LIDC-IDRI-0001's LUNA16 nodule
#: (diameter 23.35 mm) and LIDC-IDRI-0002's excluded ground-glass nodule (~23 mm), each with a
#: generous margin.
RESERVED_REGIONS = {
    "LIDC-IDRI-0001": ((56.21, 86.34, -115.87), 40.0),
    "LIDC-IDRI-0002": ((59.8, 71.5, -104.1), 40.0),
}


def read_scan(path: str | Path) -> Volume:
    """A CT Volume from a DICOM folder or an image file."""
    try:
        from inference.imaging import load  # type: ignore[attr-defined]
    except ImportError:
        load = None
    if load is not None:
        return load(path)
    return _read_sitk(Path(path))


def _read_sitk(path: Path) -> Volume:
    import SimpleITK as sitk

    if path.is_dir():
        folder = path
        subdirs = [p for p in path.rglob("*") if p.is_dir()] + [path]
        reader = sitk.ImageSeriesReader()
        files = []
        for d in subdirs:
            for uid in reader.GetGDCMSeriesIDs(str(d)) or ():
                names = reader.GetGDCMSeriesFileNames(str(d), uid)
                if len(names) > len(files):
                    files, folder = names, d
        if not files:
            raise FileNotFoundError(f"{path}: no DICOM series found")
        reader.SetFileNames(files)
        reader.SetOutputPixelType(sitk.sitkInt16)
        img = reader.Execute()
    else:
        img = sitk.ReadImage(str(path), sitk.sitkInt16)
    arr = sitk.GetArrayFromImage(img)
    aff = Volume.make_affine(img.GetSpacing(), img.GetOrigin(),
                             np.asarray(img.GetDirection()).reshape(3, 3))
    return Volume(arr.astype(np.int16), aff, SeriesInfo(source=str(path)))


def reserved_for(path: str | Path) -> list[tuple[tuple[float, float, float], float]]:
    """Reserved (centre, radius) regions of a scan, matched by its LIDC folder name."""
    p = str(path)
    return [v for k, v in RESERVED_REGIONS.items() if k in p]
