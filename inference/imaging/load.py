"""``load(path)``: one entry point for every scan format NoduleLens reads."""

from __future__ import annotations

from pathlib import Path

from inference.imaging.dicom_headers import looks_like_dicom
from inference.domain.progress import Progress
from inference.imaging.dicom_series import load_dicom
from inference.imaging.errors import (
    CorruptFile,
    ImagingError,
    NotReadable,
    PathNotFound,
    TooLargeForMemory,
    UnsupportedFormat,
)
from inference.imaging.itk_formats import load_itk
from inference.imaging.volume import Volume

ITK_SUFFIXES = (".nii", ".nii.gz", ".mhd", ".mha")


def _check_reachable(p: Path) -> None:
    """:class:`PathNotFound` or :class:`NotReadable` (permissions) before anything is read."""
    try:
        exists = p.exists()
    except PermissionError as exc:
        raise NotReadable(p, "a folder on the way to it cannot be read (permission denied)",
                          "Make the folders readable for the user who runs NoduleLens, or copy the scan "
                          "to a folder of your own") from exc
    if not exists:
        raise PathNotFound(p, "no such file or folder", "Check the path")
    if p.is_file():
        try:
            open(p, "rb").close()
        except PermissionError as exc:
            raise NotReadable(p, "the file cannot be read (permission denied)",
                              "Make it readable for the user who runs NoduleLens (chmod/chown, or ask the "
                              "owner), or copy it to a folder of your own") from exc


def load(path: str | Path, series_uid: str | None = None, progress: Progress | None = None) -> Volume:
    """Read a CT scan into an int16 HU :class:`Volume` with its LPS affine.

    ``path`` is a folder of DICOM files (searched recursively), one DICOM file of a series (its
    series is read from its folder), a multi-frame (enhanced) CT file, a NIfTI file or a MetaImage
    header. ``series_uid`` picks one series where a folder holds several (otherwise
    :class:`MultipleSeries` lists them). ``progress(fraction, message)`` is called from the calling
    thread while slices are decoded. Bad input raises an :class:`ImagingError` subclass.
    """
    p = Path(path).expanduser()
    _check_reachable(p)
    try:
        if p.is_dir():
            return load_dicom(p, series_uid, progress)
        name = p.name.lower()
        if name.endswith(ITK_SUFFIXES):
            return load_itk(p, progress)
        if name.endswith((".raw", ".zraw")):
            raise UnsupportedFormat(p, "this is the voxel data of a MetaImage", "Open the .mhd file next to it")
        if looks_like_dicom(str(p)):
            return load_dicom(p, series_uid, progress)
    except ImagingError:
        raise  # NotReadable is also an OSError: it is already the user's kind
    except MemoryError as exc:
        raise TooLargeForMemory(p, "reading it needs more memory than is available",
                                "Close other programs, or load the scan on a machine with more memory; "
                                "if the scan is not unusually large, its headers may claim a wrong size") from exc
    except PermissionError as exc:
        raise NotReadable(exc.filename or p, "it cannot be read (permission denied)",
                          "Make it readable for the user who runs NoduleLens (chmod/chown, or ask the "
                          "owner), or copy the scan to a folder of your own") from exc
    except OSError as exc:
        raise CorruptFile(getattr(exc, "filename", None) or p, f"the file cannot be read ({exc.strerror or exc})",
                          "Check that the file is complete and readable") from exc
    raise UnsupportedFormat(p, "the file is neither DICOM, NIfTI (.nii, .nii.gz) nor MetaImage (.mhd)",
                            "Open a DICOM series folder, a DICOM file, a NIfTI or a MetaImage file")
