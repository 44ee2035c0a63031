"""Small DICOM series made in the test (pydicom), for tests that lie in headers or lock files.

Imported by the imaging tests: ``make_series`` writes a real CT series with the project's writer,
``restore`` rewrites one file's pixel cells with another BitsStored / PixelRepresentation / rescale,
``make_enhanced`` writes an Enhanced CT multi-frame object (native or encapsulated pixel data), and
``load_unprivileged`` reads a path in a subprocess that file permissions apply to.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from inference.imaging.dicom_writer import write_series
from inference.imaging.volume import SeriesInfo, Volume

REPO = Path(__file__).resolve().parents[3]
ROWS = COLS = 24


def make_series(dst: Path, n: int = 6, rows: int = ROWS, cols: int = COLS, seed: int = 0) -> list[Path]:
    """``n`` axial CT slices of ``rows`` x ``cols`` pixels, HU -1000..400, 0.7 mm pixels, 2.5 mm apart."""
    hu = np.random.default_rng(seed).integers(-1000, 400, (n, rows, cols)).astype(np.int16)
    affine = np.diag([0.7, 0.7, 2.5, 1.0])
    affine[:3, 3] = (-8.0, -8.0, -100.0)
    return write_series(Volume(hu, affine, SeriesInfo()), dst, uid_seed=f"made-{seed}-{n}-{rows}")


def restore(path: Path, raw: np.ndarray, *, bits_stored: int, signed: bool, slope: float = 1.0,
            intercept: float = 0.0, **values: object) -> None:
    """Store ``raw`` as the file's whole 16-bit pixel cells under the given pixel format."""
    ds = pydicom.dcmread(path)
    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits_stored, bits_stored - 1, int(signed)
    ds.RescaleSlope, ds.RescaleIntercept = f"{slope:g}", f"{intercept:g}"
    cells = np.asarray(raw, dtype=np.int64)
    ds.PixelData = (cells.astype("<i2") if signed else cells.astype("<u2")).tobytes()
    for key, value in values.items():
        setattr(ds, key, value)
    ds.save_as(path)


def make_enhanced(out: Path, frames: int, rows: int = ROWS, cols: int = COLS, *, pixel_data: bytes | None = None,
                  fragments: int | None = None, syntax: str = ExplicitVRLittleEndian) -> Path:
    """An Enhanced CT object of ``frames`` frames claimed; the pixel data holds ``pixel_data`` (native)
    or ``fragments`` encapsulated fragments of junk (never decoded by the checks under test)."""
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2.1"
    ds.SOPInstanceUID = generate_uid()
    ds.SeriesInstanceUID, ds.StudyInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.ImageType = "CT", ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, cols, frames
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    measures, orient, rescale = Dataset(), Dataset(), Dataset()
    measures.PixelSpacing, measures.SliceThickness = [0.7, 0.7], 2.5
    orient.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    rescale.RescaleIntercept, rescale.RescaleSlope, rescale.RescaleType = 0, 1, "HU"
    shared = Dataset()
    shared.PixelMeasuresSequence = Sequence([measures])
    shared.PlaneOrientationSequence = Sequence([orient])
    shared.PixelValueTransformationSequence = Sequence([rescale])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    per_frame = []
    for k in range(frames):
        pos, item = Dataset(), Dataset()
        pos.ImagePositionPatient = [0, 0, 2.5 * k]
        item.PlanePositionSequence = Sequence([pos])
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax
    ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPClassUID, ds.SOPInstanceUID
    if fragments is not None:
        ds.PixelData = encapsulate([b"\x00" * 64] * fragments)
        ds["PixelData"].VR = "OB"
        ds["PixelData"].is_undefined_length = True
    else:
        ds.PixelData = pixel_data if pixel_data is not None else bytes(2 * rows * cols * frames)
        ds["PixelData"].VR = "OW"
    ds.save_as(out, enforce_file_format=True)
    return out


_READER = """
import json, sys
from inference.imaging import load
try:
    v = load(sys.argv[1])
    print(json.dumps({"ok": list(v.shape)}))
except Exception as e:
    print(json.dumps({"type": type(e).__name__, "mro": [c.__name__ for c in type(e).__mro__],
                      "text": str(e), "path": getattr(e, "path", None), "fix": getattr(e, "fix", None)}))
"""


@functools.cache
def unprivileged_command() -> list[str] | None:
    """The command prefix that makes file permissions apply to a child: none needed for an ordinary
    user; for root, ``setpriv`` dropping every capability (root then reads only what its owner bits
    allow). None where root has no ``setpriv`` or may not drop capabilities with it."""
    if os.geteuid() != 0:
        return []
    tool = shutil.which("setpriv")
    if tool is None:
        return None
    prefix = [tool, "--bounding-set=-all", "--inh-caps=-all"]
    with tempfile.TemporaryDirectory() as tmp:
        locked = Path(tmp) / "locked"
        locked.write_bytes(b"x")
        locked.chmod(0)
        probe = subprocess.run([*prefix, sys.executable, "-c", f"open({str(locked)!r}, 'rb')"],
                               capture_output=True, text=True, timeout=60)
    return prefix if "PermissionError" in probe.stderr else None  # refused: permissions apply


def load_unprivileged(path: Path) -> dict:
    """``load(path)`` in a child process that permissions apply to: its result or error as a dict."""
    prefix = unprivileged_command()
    assert prefix is not None, "the caller skips where permissions cannot be made to apply"
    run = subprocess.run([*prefix, sys.executable, "-c", _READER, str(path)], cwd=REPO, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])
