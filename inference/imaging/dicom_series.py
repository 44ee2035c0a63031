"""DICOM folders and files: find the series, pick one, stack it and decode it into a Volume.

Headers are read once (:func:`scan_series`); the candidates keep the per-plane headers so that
loading a chosen series does not read them again.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from inference.imaging.dicom_claims import check_series
from inference.imaging.dicom_geometry import stack
from inference.imaging.dicom_folder import (
    DICOMDIR,
    dicom_files,
    list_files,
    listed_images,
    only_dicomdir,
    unlisted_check,
)
from inference.imaging.dicom_headers import SliceHeader, read_headers
from inference.imaging.dicom_metadata import series_info
from inference.domain.progress import Progress
from inference.imaging.dicom_pixels import fill, same_pixels
from inference.imaging.errors import ImagingError, MultipleSeries, NoDicomFound, UnsupportedSeries
from inference.imaging.volume import Volume


#: modalities and SOP classes of objects with pixels that are not scans to review
NOT_SCANS = frozenset({"SEG", "RTDOSE", "RTSTRUCT", "RTPLAN", "REG", "SR", "PR", "KO"})
NOT_SCAN_CLASSES = frozenset({"1.2.840.10008.5.1.4.1.1.66.4", "1.2.840.10008.5.1.4.1.1.30"})


class Orientation(enum.Enum):
    AXIAL = "axial"
    CORONAL = "coronal"
    SAGITTAL = "sagittal"
    OBLIQUE = "oblique"
    UNKNOWN = "unknown"

    @staticmethod
    def of(iop: Sequence[float] | None) -> "Orientation":
        if iop is None:
            return Orientation.UNKNOWN
        normal = np.cross(np.asarray(iop[:3], float), np.asarray(iop[3:], float))
        axis = int(np.argmax(np.abs(normal)))
        if abs(normal[axis]) < 0.985 * max(float(np.linalg.norm(normal)), 1e-9):
            return Orientation.OBLIQUE
        return (Orientation.SAGITTAL, Orientation.CORONAL, Orientation.AXIAL)[axis]


@dataclass(frozen=True, slots=True)
class SeriesCandidate:
    """One image series found in a folder, as the series chooser shows it."""

    uid: str
    description: str
    slice_count: int
    thickness_mm: float | None
    modality: str
    orientation: Orientation
    files: tuple[str, ...]
    series_number: int | None = None
    is_localizer: bool = False
    #: the planes' headers (read once, reused by :func:`load_series`)
    planes: tuple[SliceHeader, ...] = field(default=(), repr=False, compare=False)
    #: the folder's DICOMDIR lists images of this series that are not there (raised on loading it)
    incomplete: ImagingError | None = field(default=None, repr=False, compare=False)

    def summary(self) -> str:
        thick = f"{self.thickness_mm:g} mm" if self.thickness_mm else "thickness unknown"
        desc = self.description or "(no description)"
        return (f"{self.modality or '?'} {self.orientation.value} '{desc}', {self.slice_count} slices, "
                f"{thick}, series {self.series_number if self.series_number is not None else '?'} "
                f"uid {self.uid}")


def _candidate(uid: str, planes: list[SliceHeader], incomplete: ImagingError | None = None) -> SeriesCandidate:
    first = planes[0]
    files = tuple(dict.fromkeys(p.path for p in planes))
    thick = [p.slice_thickness for p in planes if p.slice_thickness]
    return SeriesCandidate(
        uid=uid, description=first.series_description, slice_count=len(planes),
        thickness_mm=float(np.median(thick)) if thick else None, modality=first.modality,
        orientation=Orientation.of(first.orientation), files=files, series_number=first.series_number,
        is_localizer=all(p.is_localizer for p in planes), planes=tuple(planes), incomplete=incomplete)


def _read_all(files: list[str], unreadable: list[ImagingError] | None = None) -> list[SliceHeader]:
    read = read_headers if unreadable is None else partial(_read_or_note, unreadable=unreadable)
    if len(files) < 8:
        return [h for f in files for h in read(f)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        return [h for hs in pool.map(read, files) for h in hs]


def _read_or_note(path: str, unreadable: list[ImagingError]) -> list[SliceHeader]:
    try:
        return read_headers(path)
    except ImagingError as exc:
        unreadable.append(exc)
        return []


def scan_series(path: str | Path, recursive: bool = True, *,
                unreadable: list[ImagingError] | None = None) -> list[SeriesCandidate]:
    """The image series under ``path`` (a folder, or the folder of one file), largest first.

    Raises :class:`NoDicomFound` for an empty folder, one without DICOM images or one holding only a
    DICOMDIR index, :class:`NotReadable` for a folder or file that cannot be read, and
    :class:`CorruptFile` for a DICOM file whose header cannot be read — unless ``unreadable`` is
    given (batch screening): then each such file's typed error is appended to it, the file is left
    out and the others are scanned.
    """
    root = Path(path)
    if root.is_file():
        root = root.parent
        recursive = False
    files, has_dicomdir = list_files(root, recursive)
    dicom = dicom_files(root, files)
    if not dicom and has_dicomdir:
        raise only_dicomdir(root)
    if not files:
        raise NoDicomFound(root, "the folder is empty", "Choose the folder that holds the CT series' files")
    if not dicom:
        raise NoDicomFound(root, f"none of its {len(files)} files is a DICOM file",
                           "Choose the folder that holds the CT series' .dcm files, "
                           "or open a NIfTI (.nii, .nii.gz) or MetaImage (.mhd) file")
    groups: dict[str, list[SliceHeader]] = {}
    for h in _read_all(dicom, unreadable):
        if h.modality in NOT_SCANS or h.sop_class_uid in NOT_SCAN_CLASSES:
            continue  # derived objects (segmentations, dose, parametric maps) next to the scan
        groups.setdefault(h.series_instance_uid, []).append(h)
    if not groups:
        raise NoDicomFound(root, f"its {len(dicom)} DICOM files hold no images (reports or other objects only)",
                           "Choose the folder that holds the CT image series")
    listed = listed_images(root) if has_dicomdir else {}
    cands = []
    for uid, planes in groups.items():
        images = [p for p in planes if not p.is_localizer]
        scouts = [p for p in planes if p.is_localizer]
        incomplete = unlisted_check(root, uid, {p.sop_instance_uid for p in planes}, listed.get(uid, {}))
        cands.append(_candidate(uid, images or scouts, incomplete))
        if images and scouts:  # localizers inside an image series: listed as their own candidate
            cands.append(_candidate(uid, scouts, incomplete))
    cands.sort(key=lambda c: (c.is_localizer, -c.slice_count, c.uid))
    return cands


def _pick(path: Path, cands: list[SeriesCandidate], series_uid: str | None) -> tuple[SeriesCandidate, list[str]]:
    warnings: list[str] = []
    images = [c for c in cands if not c.is_localizer]
    scouts = [c for c in cands if c.is_localizer]
    if series_uid is not None:
        chosen = [c for c in images if c.uid == series_uid] or [c for c in scouts if c.uid == series_uid]
        if not chosen:
            listing = "; ".join(c.summary() for c in cands)
            raise MultipleSeries(path, f"no series with SeriesInstanceUID {series_uid} here (found: {listing})",
                                 "Choose one of the series found", series=tuple(cands))
        pick = chosen[0]
    elif len(images) > 1:
        listing = "; ".join(c.summary() for c in images)
        raise MultipleSeries(path, f"{len(images)} image series are mixed in this folder: {listing}",
                             "Choose one series (the series chooser, or `--series UID`), or put each "
                             "series in its own folder", series=tuple(images))
    elif images:
        pick = images[0]
    else:
        raise UnsupportedSeries(path, "the folder holds only localizer (scout) images",
                                "Choose the folder of the axial CT series itself")
    if not pick.is_localizer:
        for s in scouts:
            warnings.append(f"{len(s.files)} localizer (scout) image(s) excluded: "
                            + ", ".join(os.path.basename(f) for f in s.files[:5]))
    return pick, warnings


def load_series(path: str | Path, cand: SeriesCandidate, warnings: Sequence[str] = (),
                progress: Progress | None = None) -> Volume:
    """Stack, check and decode one candidate into an int16 HU :class:`Volume`."""
    first = cand.planes[0]
    if cand.incomplete is not None:
        raise cand.incomplete
    if cand.modality != "CT":
        raise UnsupportedSeries(first.path, f"the series' modality is {cand.modality or 'missing'}, not CT",
                                "NoduleLens reviews CT scans only: choose the CT series of the study")
    size_notes = check_series(path, cand.planes)  # before anything is decoded or allocated
    grid = stack(cand.planes, same_pixels)
    planes = grid.slices
    voxels = np.empty((len(planes), first.rows, first.columns), dtype=np.int16)
    padded, pixel_notes = fill(voxels, planes, progress)
    notes = list(warnings) + list(grid.warnings) + size_notes + pixel_notes
    if padded:
        lo, hi = first.padding or (0, 0)
        value = f"{lo}" if lo == hi else f"{lo}..{hi}"
        notes.append(f"{padded} padding pixels (PixelPaddingValue {value}, outside the scanned field) "
                     "set to -1024 HU (air)")
    info = series_info(planes, source=str(path), warnings=tuple(notes))
    return Volume(voxels, grid.affine, info)


def load_dicom(path: str | Path, series_uid: str | None = None, progress: Progress | None = None) -> Volume:
    """A folder (recursively) or one file of a series (its series is loaded from its folder)."""
    p = Path(path)
    if p.is_file() and p.name.upper() == DICOMDIR:  # the index of a disc: read the folder it indexes
        p = p.parent
    if p.is_file():
        own = read_headers(str(p))
        if not own:
            raise UnsupportedSeries(p, "the DICOM file holds no image", "Open a CT image file or its folder")
        if own[0].n_frames > 1:  # an enhanced multi-frame object is a whole series in one file
            cand = _candidate(own[0].series_instance_uid, own)
            return load_series(p, cand, progress=progress)
        cands = scan_series(p, recursive=False)
        series_uid = series_uid or own[0].series_instance_uid
        cand, warnings = _pick(p.parent, cands, series_uid)
        return load_series(p.parent, cand, warnings, progress)
    cands = scan_series(p)
    cand, warnings = _pick(p, cands, series_uid)
    return load_series(p, cand, warnings, progress)
