"""Reading CT scans into :class:`Volume` objects. No torch, no Qt, no VTK here."""

from inference.imaging.dicom_series import Orientation, SeriesCandidate, scan_series
from inference.imaging.errors import (
    CorruptFile,
    DuplicateSlices,
    GantryTilt,
    ImagingError,
    InconsistentGeometry,
    MissingSlices,
    MultipleSeries,
    NoDicomFound,
    NoLungFound,
    PathNotFound,
    TooLittleChest,
    UnevenSpacing,
    UnsupportedFormat,
    UnsupportedSeries,
)
from inference.imaging.load import load
from inference.imaging.series_choice import choose_series
from inference.imaging.volume import SeriesInfo, Volume

__all__ = [
    "CorruptFile",
    "DuplicateSlices",
    "GantryTilt",
    "ImagingError",
    "InconsistentGeometry",
    "MissingSlices",
    "MultipleSeries",
    "NoDicomFound",
    "NoLungFound",
    "Orientation",
    "PathNotFound",
    "SeriesCandidate",
    "SeriesInfo",
    "TooLittleChest",
    "UnevenSpacing",
    "UnsupportedFormat",
    "UnsupportedSeries",
    "Volume",
    "choose_series",
    "load",
    "scan_series",
]
