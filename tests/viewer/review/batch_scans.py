"""Small phantom CT series on disk for the batch-safety tests (imported by name): good ones, one with
a duplicate slice file (the loader warns and skips it) and one whose slice header is cut short."""

from __future__ import annotations

import shutil
from pathlib import Path

from inference.imaging.dicom_writer import write_series
from inference.phantom import NoduleSpec, make_phantom

SHAPE_ZYX = (24, 64, 64)
SPACING_ZYX = (2.5, 2.5, 2.5)
FAST = ["--model", "classical", "--device", "cpu", "--no-saliency", "--threads", "1"]


def write_good(root: Path, name: str, seed: int) -> list[Path]:
    """One phantom series (a 12 mm nodule) in ``root/name``; its files in slice order."""
    ph = make_phantom(seed, SHAPE_ZYX, SPACING_ZYX, nodules=[NoduleSpec(None, 12.0)], noise_hu=10.0)
    return write_series(ph.volume, root / name, uid_seed=f"batch-{name}-{seed}", patient_id=name.upper())


def add_duplicate(files: list[Path], k: int = 5) -> Path:
    """A byte copy of slice ``k`` under another name: loaded with a warning naming both files."""
    copy = files[k].with_name("copy-of-" + files[k].name)
    shutil.copyfile(files[k], copy)
    return copy


def cut_header(path: Path, keep: int = 300) -> Path:
    """Keep only the first ``keep`` bytes: the DICOM header itself is unreadable."""
    path.write_bytes(path.read_bytes()[:keep])
    return path
