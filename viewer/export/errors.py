"""Typed errors of the exporters: each names the file or study concerned and says what to do.

The CLI prints ``str(error)`` and exits with status 2; the export dialog shows it.
"""

from __future__ import annotations

from inference.errors import ActionableError

from pathlib import Path


class ExportError(ActionableError):
    """Base class: a reviewed study could not be exported as asked."""


class SourceFilesMissing(ExportError):
    """The source CT files that the DICOM outputs must reference are gone (moved or deleted)."""

    def __init__(self, subject: str | Path, missing: tuple[str, ...]) -> None:
        self.missing = missing
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        super().__init__(
            subject,
            f"{len(missing)} source CT file(s) are missing: {shown}",
            "Move the scan back to where it was reviewed, or open it from its new place and "
            "review it there, then export again",
        )


class SourceMismatch(ExportError):
    """The files at the recorded place are not the reviewed series (other UIDs or geometry)."""


class NotDicomSource(ExportError):
    """DICOM outputs need a DICOM source series (a NIfTI or phantom scan has no instances)."""


class MissingAnalysis(ExportError):
    """A finding has no mask or no saliency where the chosen format needs one."""


class UnknownFormat(ExportError):
    """The requested export format does not exist."""
