"""Typed errors for everything that reads a scan.

Every error names the file (or folder) it is about and says what the user can do. The GUI shows
``str(error)`` in a dialog and keeps running; the CLI prints it and exits with status 2.
"""

from __future__ import annotations

from inference.errors import ActionableError

from pathlib import Path


class ImagingError(ActionableError):
    """Base class: a scan could not be read as a correct volume.

    ``path`` is the file or folder concerned, ``fix`` tells the user what to do.
    """

    @property
    def path(self) -> str:
        return self.subject


class NoDicomFound(ImagingError):
    """An empty folder, or one holding no readable DICOM image."""


class UnsupportedFormat(ImagingError):
    """The file is neither DICOM, NIfTI nor MetaImage."""


class UnsupportedSeries(ImagingError):
    """A readable series that is not a CT volume NoduleLens can review (e.g. wrong modality)."""


class CorruptFile(ImagingError):
    """A truncated or damaged file inside a series."""


class BitsStoredExceeded(CorruptFile):
    """Stored pixel values lie outside the range BitsStored / PixelRepresentation allow: the header
    does not describe the data, and no reading of the values is certain."""


class ClaimedSizeMismatch(CorruptFile):
    """The header claims more pixels (Rows, Columns, NumberOfFrames, BitsAllocated) than the file holds."""


class TooLargeForMemory(ImagingError):
    """The series (as its headers claim it) does not fit in the memory that is available."""


class NotReadable(ImagingError, PermissionError):
    """A folder or file that exists but cannot be read (permissions).

    Also a :class:`PermissionError`, so code that handles operating-system permission errors
    recognises it.
    """

    def __init__(self, path: str | Path, problem: str, fix: str) -> None:
        ImagingError.__init__(self, path, problem, fix)
        self.filename = str(path)

    def __str__(self) -> str:  # OSError's own __str__ would print errno fields that are not set
        return Exception.__str__(self)


class MultipleSeries(ImagingError):
    """Several series in one place where one was expected; ``series`` lists the candidates."""

    def __init__(self, path: str | Path, problem: str, fix: str, series: tuple = ()) -> None:
        super().__init__(path, problem, fix)
        self.series = series


class MissingSlices(ImagingError):
    """A gap in the slice positions: a slice (or more) of the series is missing."""


class UnevenSpacing(ImagingError):
    """Slice positions are not evenly spaced, so no single voxel grid fits them."""


class GantryTilt(ImagingError):
    """Slices are sheared (gantry tilt) and cannot be stacked on a rectilinear grid."""


class InconsistentGeometry(ImagingError):
    """Slices disagree on rows/columns, pixel spacing or orientation."""


class DuplicateSlices(ImagingError):
    """Two or more slices share one position with different pixel data."""


class PathNotFound(ImagingError):
    """The path given does not exist."""


class TooLittleChest(ImagingError):
    """The volume is too thin or too small along some axis for detection (a few slices, one voxel
    thick): refused before the inference worker runs (``inference.imaging.extent``)."""


class NoLungFound(ImagingError):
    """The lung mask finds no (or almost no) aerated lung in the volume: a scan of another body
    part (head, abdomen), a field of view that cuts the lungs away, or lungs without air. Refused by
    the inference worker so that such a scan is never reported as clean (``inference.imaging.extent``)."""
