"""Reading DICOM headers once: which files are DICOM images, and the per-slice facts the loader needs.

A header is read without its pixel data (``stop_before_pixels``); the values the geometry checks and
the pixel decoder need are copied into a small frozen :class:`SliceHeader`. Multi-frame (enhanced)
objects become one :class:`SliceHeader` per frame, with ``frame`` set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, overload

import numpy as np
import pydicom
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag, Tag

from inference.imaging.dicom_folder import is_dicom
from inference.imaging.dicom_extent import UNKNOWN, PixelExtent, pixel_extent
from inference.imaging.errors import CorruptFile, UnsupportedSeries

#: transfer syntaxes whose pixel data can be read straight from the file as little-endian words
UNCOMPRESSED_LE = frozenset({"1.2.840.10008.1.2", "1.2.840.10008.1.2.1"})


@dataclass(frozen=True, slots=True)
class SliceHeader:
    """One image plane of a DICOM file (a frame of a multi-frame object, or a single-frame file)."""

    path: str
    frame: int | None
    n_frames: int
    sop_instance_uid: str
    sop_class_uid: str
    series_instance_uid: str
    modality: str
    image_type: tuple[str, ...]
    rows: int
    columns: int
    pixel_spacing: tuple[float, float] | None  # (between rows, between columns) in mm
    orientation: tuple[float, ...] | None  # ImageOrientationPatient, 6 direction cosines
    position: tuple[float, float, float] | None  # ImagePositionPatient, LPS mm
    slope: float
    intercept: float
    bits_allocated: int
    bits_stored: int
    signed: bool
    samples_per_pixel: int
    padding: tuple[int, int] | None  # inclusive raw range of padding values, or None
    transfer_syntax: str
    series_description: str
    series_number: int | None
    slice_thickness: float | None
    gantry_tilt: float
    instance_number: int | None
    #: what the file's PixelData element holds (read from its element header)
    extent: PixelExtent = UNKNOWN
    #: an (60xx,0102) OverlayBitPosition at or above BitsStored: the high bits hold an overlay
    overlay_in_high_bits: bool = False

    @property
    def is_localizer(self) -> bool:
        return "LOCALIZER" in self.image_type

    @property
    def uncompressed(self) -> bool:
        return self.transfer_syntax in UNCOMPRESSED_LE


def looks_like_dicom(path: str) -> bool:
    """'DICM' at byte 128, or (old files without preamble) a group-0008 tag at byte 0; False for a
    file that cannot be read (:func:`inference.imaging.dicom_folder.is_dicom` tells that apart)."""
    try:
        return is_dicom(path)
    except PermissionError:
        return False


def _floats(value: Any, n: int, what: str, path: str) -> tuple[float, ...] | None:
    if value is None or value == "":
        return None
    try:
        items = [value] if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__") else value
        seq = [float(v) for v in items]
    except (TypeError, ValueError) as exc:
        raise CorruptFile(path, f"{what} is not numeric ({exc})",
                          "Re-export the file from the scanner or PACS") from exc
    if len(seq) != n or not all(np.isfinite(seq)):
        raise CorruptFile(path, f"{what} must hold {n} finite numbers, not {list(seq)}",
                          "Re-export the file from the scanner or PACS")
    return tuple(seq)


def _pair(value: Any, what: str, path: str) -> tuple[float, float] | None:
    t = _floats(value, 2, what, path)
    return None if t is None else (t[0], t[1])


def _triple(value: Any, what: str, path: str) -> tuple[float, float, float] | None:
    t = _floats(value, 3, what, path)
    return None if t is None else (t[0], t[1], t[2])


_TAGS: dict[str, BaseTag] = {}


def _value(ds: Dataset, keyword: str) -> Any:
    """An element's value; decimal and integer strings (DS, IS) come back as text (one string, or a
    list for several values) without pydicom's slower conversion, other VRs as pydicom converts them."""
    tag = _TAGS.get(keyword)
    if tag is None:
        number = tag_for_keyword(keyword)
        if number is None:
            raise KeyError(f"{keyword} is not a DICOM keyword")
        tag = _TAGS[keyword] = Tag(number)
    elem = ds.get_item(tag)
    if elem is None:
        return None
    if isinstance(elem, RawDataElement) and isinstance(elem.value, bytes):
        vr = elem.VR or dictionary_VR(tag)
        if vr in ("DS", "IS"):
            text = elem.value.decode("ascii", "replace").strip(" \x00")
            if not text:
                return None
            parts = text.split("\\")
            return parts[0] if len(parts) == 1 else parts
    return ds[tag].value


@overload
def _num(ds: Dataset, keyword: str, default: float, path: str) -> float: ...
@overload
def _num(ds: Dataset, keyword: str, default: None, path: str) -> float | None: ...
def _num(ds: Dataset, keyword: str, default: float | None, path: str) -> float | None:
    value = _value(ds, keyword)
    if value is None or value == "":
        return default
    try:
        out = float(value)
    except (TypeError, ValueError) as exc:
        raise CorruptFile(path, f"{keyword} {value!r} is not a number",
                          "Re-export the file from the scanner or PACS") from exc
    if not np.isfinite(out):
        raise CorruptFile(path, f"{keyword} is not finite", "Re-export the file from the scanner or PACS")
    return out


@overload
def _int(ds: Dataset, keyword: str, default: int, path: str) -> int: ...
@overload
def _int(ds: Dataset, keyword: str, default: None, path: str) -> int | None: ...
def _int(ds: Dataset, keyword: str, default: int | None, path: str) -> int | None:
    value = _num(ds, keyword, None, path)
    return default if value is None else int(value)


def _padding(ds: Dataset, signed: bool, bits_allocated: int) -> tuple[int, int] | None:
    """PixelPaddingValue (and PixelPaddingRangeLimit) as raw stored values of the right sign."""
    def as_raw(v: Any) -> int | None:
        if v is None:
            return None
        if isinstance(v, bytes):
            if len(v) < 2:
                return None
            v = int.from_bytes(v[:2], "little", signed=False)
        v = int(v)
        if signed and bits_allocated == 16 and v >= 0x8000:
            v -= 0x10000  # stored as US although the pixels are signed
        return v

    try:
        pad = as_raw(ds.get("PixelPaddingValue"))
        limit = as_raw(ds.get("PixelPaddingRangeLimit"))
    except (TypeError, ValueError):
        return None
    if pad is None:
        return None
    if limit is None:
        return (pad, pad)
    return (min(pad, limit), max(pad, limit))


def _frame_item(seq_owner: Dataset | None, seq: str, keyword: str) -> Any:
    if seq_owner is None or seq not in seq_owner or len(seq_owner[seq].value) == 0:
        return None
    return seq_owner[seq].value[0].get(keyword)


def read_headers(path: str) -> list[SliceHeader]:
    """The image planes in one DICOM file ([] when it holds no image). Raises :class:`CorruptFile`."""
    try:
        with open(path, "rb") as fp:
            ds = pydicom.dcmread(fp, stop_before_pixels=True, force=True)
            meta = getattr(ds, "file_meta", None)
            ts = str(meta.get("TransferSyntaxUID", "1.2.840.10008.1.2")) if meta is not None \
                else "1.2.840.10008.1.2"
            extent = pixel_extent(fp, ts)
        return _headers_of(ds, path, extent)
    except CorruptFile:
        raise
    except Exception as exc:  # pydicom raises many types on damaged bytes
        raise CorruptFile(path, f"the DICOM header cannot be read ({type(exc).__name__}: {exc})",
                          "The file is truncated or damaged: copy it again from the source, "
                          "or remove it from the folder") from exc


def _overlay_in_high_bits(ds: Dataset, bits_stored: int) -> bool:
    """An embedded overlay plane (retired, but allowed in old files) in the bits above BitsStored."""
    for group in range(0x6000, 0x6020, 2):
        elem = ds.get((group, 0x0102))  # OverlayBitPosition
        if elem is not None and elem.value not in (None, b"", ""):
            try:
                if int(elem.value) >= bits_stored:
                    return True
            except (TypeError, ValueError):
                continue
    return False


def _headers_of(ds: Dataset, path: str, extent: PixelExtent = UNKNOWN) -> list[SliceHeader]:
    rows = _int(ds, "Rows", None, path)
    cols = _int(ds, "Columns", None, path)
    if rows is None or cols is None:
        meta = getattr(ds, "file_meta", None)
        sop = str(ds.get("SOPClassUID") or (meta.get("MediaStorageSOPClassUID", "") if meta else ""))
        name = getattr(ds.get("SOPClassUID") or (meta.get("MediaStorageSOPClassUID") if meta else None),
                       "name", "")
        if not sop or "Image Storage" in str(name):
            raise CorruptFile(path, "the header ends before the image description (Rows, Columns)",
                              "The file is truncated: copy it again from the source, or remove it")
        return []  # no image (a structured report, a presentation state, ...)
    if rows < 1 or cols < 1:
        raise CorruptFile(path, f"the image has {rows} rows and {cols} columns", "Re-export the file")
    meta = getattr(ds, "file_meta", None)
    ts = str(meta.get("TransferSyntaxUID", "1.2.840.10008.1.2")) if meta is not None else "1.2.840.10008.1.2"
    bits_allocated = _int(ds, "BitsAllocated", 16, path)
    bits_stored = _int(ds, "BitsStored", bits_allocated, path)
    signed = bool(_int(ds, "PixelRepresentation", 0, path))
    if bits_allocated not in (1, 8, 16, 32) or not 1 <= bits_stored <= bits_allocated:
        raise CorruptFile(path, f"BitsAllocated {bits_allocated} / BitsStored {bits_stored} are not a valid "
                          "pixel format", "Re-export the file from the scanner or PACS")
    n_frames = _int(ds, "NumberOfFrames", 1, path) or 1
    image_type = tuple(str(v).upper() for v in (ds.get("ImageType") or ()) if v is not None) \
        if not isinstance(ds.get("ImageType"), str) else (str(ds.ImageType).upper(),)
    thickness = _num(ds, "SliceThickness", None, path)
    common: dict[str, Any] = dict(
        path=path, n_frames=n_frames, sop_instance_uid=str(ds.get("SOPInstanceUID", "")),
        sop_class_uid=str(ds.get("SOPClassUID", "")), series_instance_uid=str(ds.get("SeriesInstanceUID", "")),
        modality=str(ds.get("Modality", "")).upper(), image_type=image_type, rows=rows, columns=cols,
        bits_allocated=bits_allocated, bits_stored=bits_stored, signed=signed,
        samples_per_pixel=_int(ds, "SamplesPerPixel", 1, path),
        padding=_padding(ds, signed, bits_allocated), transfer_syntax=ts,
        series_description=str(ds.get("SeriesDescription", "") or ""),
        series_number=_int(ds, "SeriesNumber", None, path),
        gantry_tilt=_num(ds, "GantryDetectorTilt", 0.0, path) or 0.0,
        instance_number=_int(ds, "InstanceNumber", None, path),
        extent=extent, overlay_in_high_bits=_overlay_in_high_bits(ds, bits_stored),
    )
    if n_frames < 1:
        raise CorruptFile(path, f"NumberOfFrames is {n_frames}", "Re-export the file from the scanner or PACS")
    if n_frames > 1 and not ds.get("PerFrameFunctionalGroupsSequence"):
        raise UnsupportedSeries(path, f"a multi-frame object with {n_frames} frames but no per-frame "
                                "positions (PerFrameFunctionalGroupsSequence)",
                                "Export the series as single-frame CT images or as Enhanced CT")
    if n_frames == 1 and "PerFrameFunctionalGroupsSequence" not in ds:
        return [SliceHeader(
            frame=None,
            pixel_spacing=_pair(_value(ds, "PixelSpacing"), "PixelSpacing", path),
            orientation=_floats(_value(ds, "ImageOrientationPatient"), 6, "ImageOrientationPatient", path),
            position=_triple(_value(ds, "ImagePositionPatient"), "ImagePositionPatient", path),
            slope=_num(ds, "RescaleSlope", 1.0, path), intercept=_num(ds, "RescaleIntercept", 0.0, path),
            slice_thickness=thickness, **common)]
    return _frame_headers(ds, path, n_frames, thickness, common)


def _frame_headers(ds: Dataset, path: str, n_frames: int, thickness: float | None,
                   common: dict[str, Any]) -> list[SliceHeader]:
    """Enhanced (multi-frame) objects: geometry and rescale live in functional group sequences."""
    shared = ds["SharedFunctionalGroupsSequence"].value[0] if ds.get("SharedFunctionalGroupsSequence") else None
    per_frame = ds.get("PerFrameFunctionalGroupsSequence") or []
    if len(per_frame) != n_frames:
        raise CorruptFile(path, f"{len(per_frame)} per-frame groups for {n_frames} frames",
                          "Re-export the multi-frame object")
    out = []
    for i in range(n_frames):
        item = per_frame[i] if per_frame else None

        def pick(seq: str, keyword: str, item: Dataset | None = item) -> Any:
            v = _frame_item(item, seq, keyword)
            return v if v is not None else _frame_item(shared, seq, keyword)

        slope = pick("PixelValueTransformationSequence", "RescaleSlope")
        intercept = pick("PixelValueTransformationSequence", "RescaleIntercept")
        frame_thickness = pick("PixelMeasuresSequence", "SliceThickness")
        out.append(SliceHeader(
            frame=i,
            pixel_spacing=_pair(pick("PixelMeasuresSequence", "PixelSpacing"), "PixelSpacing", path),
            orientation=_floats(pick("PlaneOrientationSequence", "ImageOrientationPatient"), 6,
                                "ImageOrientationPatient", path),
            position=_triple(pick("PlanePositionSequence", "ImagePositionPatient"), "ImagePositionPatient", path),
            slope=float(slope) if slope not in (None, "") else _num(ds, "RescaleSlope", 1.0, path),
            intercept=float(intercept) if intercept not in (None, "") else _num(ds, "RescaleIntercept", 0.0, path),
            slice_thickness=float(frame_thickness) if frame_thickness not in (None, "") else thickness,
            **common))
    return out


def read_dataset_header(path: str) -> Dataset:
    """The full header of one file (for series-level metadata). Raises :class:`CorruptFile`."""
    try:
        return pydicom.dcmread(path, stop_before_pixels=True, force=True)
    except Exception as exc:
        raise CorruptFile(path, f"the DICOM header cannot be read ({type(exc).__name__})",
                          "Copy the file again from the source, or remove it from the folder") from exc
