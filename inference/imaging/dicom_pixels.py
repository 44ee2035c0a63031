"""Decoding the pixels of ordered planes into one preallocated int16 Hounsfield array.

Uncompressed 16-bit little-endian single-frame files are read straight from the file at the
pixel data's offset (found from the file size and checked against the element header), without
building a pydicom dataset. Everything else (compressed transfer syntaxes through pydicom's
pylibjpeg plugins, multi-frame objects, other bit depths) goes through ``pydicom.pixel_array``
with its clearing of the unused high bits turned off. Both give the whole stored cells, which
:mod:`inference.imaging.dicom_bits` checks against BitsStored before they become Hounsfield units.
Two threads share the work; numpy and file reads release the GIL.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pydicom

from inference.domain.progress import Progress
from inference.imaging.dicom_bits import Beyond, conform, padding_note, refuse
from inference.imaging.dicom_headers import SliceHeader
from inference.imaging.errors import CorruptFile, NotReadable, UnsupportedSeries

PIXEL_TAG = b"\xe0\x7f\x10\x00"
AIR_HU = -1024
THREADS = 2


def _corrupt(h: SliceHeader, why: str) -> CorruptFile:
    return CorruptFile(h.path, f"the pixel data cannot be decoded ({why})",
                       "The file is truncated or damaged: copy it again from the source, or remove it "
                       "and load the rest of the series")


def _read_direct(h: SliceHeader) -> np.ndarray | None:
    """The whole stored cells of an uncompressed 16-bit plane, or None when the fast path does not apply."""
    if not (h.uncompressed and h.frame is None and h.bits_allocated == 16 and h.samples_per_pixel == 1):
        return None
    count = h.rows * h.columns
    nbytes = 2 * count
    try:
        size = os.path.getsize(h.path)
        offset = size - nbytes
        if offset < 12:
            return None
        with open(h.path, "rb") as fh:
            fh.seek(offset - 12)
            head = fh.read(12)
            explicit = head[:4] == PIXEL_TAG and head[4:6] in (b"OW", b"OB") and head[6:8] == b"\0\0"
            implicit = head[4:8] == PIXEL_TAG
            if not (explicit or implicit) or int.from_bytes(head[8:12], "little") != nbytes:
                return None
            raw = np.fromfile(fh, dtype="<i2" if h.signed else "<u2", count=count)
    except OSError:
        return None
    if raw.size != count:
        return None
    return raw.reshape(h.rows, h.columns)


class _Decoded:
    """Decoded pixel arrays of multi-frame or compressed files, kept while their frames are used."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[str, np.ndarray] = {}

    def plane(self, h: SliceHeader) -> np.ndarray:
        with self._lock:
            arr = self._cache.get(h.path)
            if arr is None:
                try:
                    ds = pydicom.dcmread(h.path, force=True)
                    ds.pixel_array_options(correct_unused_bits=False)  # the whole cells: checked later
                    arr = ds.pixel_array
                except PermissionError as exc:
                    raise NotReadable(h.path, "the file cannot be read (permission denied)",
                                      "Make the file readable for the user who runs NoduleLens "
                                      "(chmod/chown), or copy the series to a folder of your own") from exc
                except Exception as exc:  # decoders raise many types on damaged data
                    raise _corrupt(h, f"{type(exc).__name__}: {exc}") from exc
                if h.n_frames > 1:
                    self._cache[h.path] = arr
        if h.n_frames > 1:
            if arr.ndim != 3 or arr.shape[0] != h.n_frames:
                raise _corrupt(h, f"expected {h.n_frames} frames, decoded shape {arr.shape}")
            arr = arr[h.frame or 0]
        if arr.shape != (h.rows, h.columns):
            raise _corrupt(h, f"decoded shape {arr.shape}, header says {h.rows}x{h.columns}")
        return arr


def raw_plane(h: SliceHeader, decoded: _Decoded | None = None) -> np.ndarray:
    """The whole stored cells of one plane (rows, columns), high bits included."""
    if h.samples_per_pixel != 1:
        raise UnsupportedSeries(h.path, f"the image has {h.samples_per_pixel} samples per pixel (colour)",
                                "Load the original greyscale CT series, not a secondary capture")
    raw = _read_direct(h)
    if raw is None:
        raw = (decoded or _Decoded()).plane(h)
    return raw


def same_pixels(a: SliceHeader, b: SliceHeader) -> bool:
    """Identical Hounsfield values in two planes (used to drop exact duplicates)."""
    ra, rb = raw_plane(a), raw_plane(b)
    return (ra.shape == rb.shape and (a.slope, a.intercept) == (b.slope, b.intercept)
            and bool(np.array_equal(ra, rb)))


def _to_hu(raw: np.ndarray, h: SliceHeader, out: np.ndarray) -> int:
    """Write HU of one plane into ``out`` (int16); returns the number of padding pixels set to air."""
    pad_mask = None
    if h.padding is not None:
        lo, hi = h.padding
        pad_mask = (raw >= lo) & (raw <= hi) if lo != hi else raw == lo
    integral = h.slope == 1.0 and float(h.intercept).is_integer() and abs(h.intercept) < 65536
    if integral and raw.dtype == np.int16 and _fits_int16(raw, int(h.intercept)):
        np.add(raw, np.int16(h.intercept), out=out)  # no overflow possible: stay in int16
    else:
        if integral:
            wide = raw.astype(np.int32)
            wide += int(h.intercept)
        else:
            wide = np.rint(raw.astype(np.float64) * h.slope + h.intercept)
        np.clip(wide, -32768, 32767, out=wide)
        out[...] = wide
    if pad_mask is not None:
        n = int(np.count_nonzero(pad_mask))
        if n:
            np.copyto(out, np.int16(AIR_HU), where=pad_mask)
        return n
    return 0


def _fits_int16(raw: np.ndarray, intercept: int) -> bool:
    if intercept == 0:
        return True
    if intercept < 0:
        return int(raw.min()) + intercept >= -32768
    return int(raw.max()) + intercept <= 32767


def fill(out: np.ndarray, planes: Sequence[SliceHeader], progress: Progress | None = None) -> tuple[int, list[str]]:
    """Decode ``planes`` into ``out[z]`` in order; returns the count of padding pixels set to air and
    the warnings. Raises :class:`BitsStoredExceeded` (after every plane was looked at, so that it
    names every file) when stored values exceed BitsStored and no reading of them is certain."""
    decoded = _Decoded()
    total = len(planes)

    def work(z: int) -> tuple[int, Beyond | None, int]:
        h = planes[z]
        raw, beyond, padding_beyond = conform(raw_plane(h, decoded), h)
        if beyond is not None:
            return 0, beyond, 0
        return _to_hu(raw, h, out[z]), None, padding_beyond

    padded = padding_beyond = 0
    found: list[Beyond] = []
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for done, (n, beyond, n_beyond) in enumerate(pool.map(work, range(total)), start=1):
            padded += n
            padding_beyond += n_beyond
            if beyond is not None:
                found.append(beyond)
            if progress is not None and (done == total or done % 16 == 0):
                progress(done / total, f"reading slice {done} of {total}")
    if found:
        raise refuse(found, planes[0], len({h.path for h in planes}))
    notes = [padding_note(padding_beyond, planes[0])] if padding_beyond else []
    return padded, notes
