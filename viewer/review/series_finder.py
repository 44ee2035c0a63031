"""The CT series under a screened folder, as screening jobs. Qt-free.

One damaged file must not stop a batch: a file whose header cannot be read is left out of the
scan and its typed error (naming the file) goes to every CT series in the same folder, which is
then recorded as failed without running the detector (the series may be incomplete: a missing
first or last slice would otherwise give a shorter volume without a word). A damaged file in a
folder without any CT series becomes a failed job of its own (no series UID, not stored).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from inference.imaging.errors import ImagingError
from viewer.review.errors import ScreeningError


@dataclass(frozen=True, slots=True)
class SeriesJob:
    """One CT series found under the screened folder."""

    series_uid: str
    study_uid: str
    folder: str
    description: str
    n_slices: int
    patient_id: str = ""
    #: the typed error (as text) that keeps this series from being screened, known before detection
    #: (a file in its folder cannot be read): recorded as failed without running the detector
    error: str = ""
    #: the series' ``screened_at`` in the store when the run planned it ("" = never): another
    #: screener's result since then shows as a different value (viewer.review.leases)
    screened_at: str = ""


def find_series(root: str | Path) -> tuple[list[SeriesJob], list[str]]:
    """The CT image series under ``root`` (and a note for each other series found); series next to
    an unreadable file carry its error (see the module's note)."""
    from inference.imaging import scan_series

    root = Path(root)
    if not root.exists():
        raise ScreeningError(root, "does not exist", "Give the folder that holds the scans")
    unreadable: list[ImagingError] = []
    try:
        cands = scan_series(root, unreadable=unreadable)
    except ImagingError as exc:
        if not unreadable:
            raise ScreeningError(root, f"holds no readable CT series ({exc.problem})", exc.fix) from exc
        cands = []  # every DICOM file is damaged: each is reported below
    bad: dict[str, list[ImagingError]] = {}
    for err in sorted(unreadable, key=lambda e: e.path):
        bad.setdefault(str(Path(err.path).parent.resolve()), []).append(err)
    jobs, notes, used = [], [], set()
    for c in cands:
        if c.is_localizer:
            continue
        if c.modality != "CT":
            notes.append(f"{c.uid}: {c.modality or 'unknown'} series, not CT: not screened")
            continue
        dirs = {str(Path(f).parent.resolve()) for f in c.files}
        folder = Path(next(iter(dirs))) if len(dirs) == 1 else root.resolve()
        used |= dirs
        study, patient = _study_of(c.files[0])
        jobs.append(SeriesJob(c.uid, study, str(folder), c.description, c.slice_count, patient,
                              error=_unreadable_text([e for d in sorted(dirs) for e in bad.get(d, [])])))
    for where, errs in bad.items():
        if where not in used:
            jobs.append(SeriesJob("", "", where, "unreadable DICOM file(s)", 0, error=_unreadable_text(errs)))
    jobs.sort(key=lambda j: j.folder)
    return jobs, notes


def _unreadable_text(errors: Sequence[ImagingError]) -> str:
    """The first damaged file's typed error (it names the file), and how many more there are."""
    if not errors:
        return ""
    first = errors[0]
    more = f" (and {len(errors) - 1} more unreadable file(s) in the folder)" if len(errors) > 1 else ""
    return f"{type(first).__name__}: {first}{more}; the series may be incomplete, so it was not screened"


def _study_of(path: str) -> tuple[str, str]:
    import pydicom
    ds = pydicom.dcmread(path, stop_before_pixels=True,
                         specific_tags=["StudyInstanceUID", "PatientID"])
    return str(ds.get("StudyInstanceUID", "")), str(ds.get("PatientID", ""))
