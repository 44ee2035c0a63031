"""Reading CT scans into :class:`Volume` objects. No torch, no Qt, no VTK here."""

from inference.imaging.errors import ImagingError
from inference.imaging.volume import SeriesInfo, Volume

__all__ = ["ImagingError", "SeriesInfo", "Volume"]
