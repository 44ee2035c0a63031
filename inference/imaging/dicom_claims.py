"""Sizes the headers claim, checked against the files and the memory before anything is allocated.

A header that claims 65535 x 65535 pixels in a file of half a megabyte must not make the loader
ask numpy for gigabytes (and show the user numpy's "Unable to allocate" text). Each file of the
chosen series is checked against its own PixelData element (:mod:`inference.imaging.dicom_extent`):

* native (uncompressed) data must hold exactly Rows x Columns x SamplesPerPixel x frames cells of
  BitsAllocated bits (one pad byte to an even length allowed). Fewer bytes: a truncated file or a
  header that claims too much. A whole row or more of extra bytes: the header's Rows or Columns are
  too small, and reading them would shear the image, so it is refused; a few extra bytes (less than
  a row) are ignored and said in the warnings.
* encapsulated (compressed) data must hold at least one fragment per claimed frame.

Then the whole series: the int16 volume plus the largest decoded file must fit in the memory that is
available now (the machine's, or the container's limit where that is lower).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from inference.imaging.dicom_headers import SliceHeader
from inference.imaging.errors import ClaimedSizeMismatch, CorruptFile, TooLargeForMemory

FIX = ("The file is truncated, or its header (Rows, Columns, NumberOfFrames, BitsAllocated) does not "
       "match its pixel data: copy it again from the source, or remove it and load the rest of the series")


def _size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover - the loop always returns


def native_bytes(h: SliceHeader) -> int:
    """The bytes of uncompressed pixel data the header claims for the whole file."""
    cells = h.rows * h.columns * h.samples_per_pixel * h.n_frames
    if h.bits_allocated == 1:
        return (cells + 7) // 8
    return cells * (h.bits_allocated // 8)


def _claim(h: SliceHeader) -> str:
    frames = f" x {h.n_frames} frames" if h.n_frames > 1 else ""
    samples = f" x {h.samples_per_pixel} samples" if h.samples_per_pixel > 1 else ""
    return f"{h.rows} rows x {h.columns} columns{samples}{frames} of {h.bits_allocated} bits"


def check_file(h: SliceHeader) -> str | None:
    """Refuse a file whose pixel data cannot be what its header claims; a warning for a few extra bytes."""
    ext = h.extent
    if not ext.measured:
        return None
    if not ext.present:
        raise CorruptFile(h.path, "the file has an image header but no pixel data", FIX)
    if ext.fragments is not None:
        if ext.fragments < h.n_frames:
            raise ClaimedSizeMismatch(
                h.path, f"the header claims {h.n_frames} compressed frame(s) but the pixel data holds "
                f"{ext.fragments} fragment(s) (at least one per frame is needed)", FIX)
        return None
    if ext.length is None:
        return None
    need = native_bytes(h)
    have = ext.length
    if have < need:
        raise ClaimedSizeMismatch(
            h.path, f"the header claims {_claim(h)} ({_size(need)} of pixel data) but the file holds "
            f"{_size(have)} ({have} bytes)", FIX)
    extra = have - need - (need % 2)
    row = max(h.columns * h.samples_per_pixel * max(h.bits_allocated // 8, 1), 1)
    if extra >= row:
        raise ClaimedSizeMismatch(
            h.path, f"the pixel data holds {have} bytes but the header claims {_claim(h)} ({need} bytes): "
            f"{extra} bytes more, a row or more, so Rows or Columns are wrong and the image would be "
            "read sheared", FIX)
    if extra > 0:
        return f"{os.path.basename(h.path)}: {extra} byte(s) after the pixel data ignored"
    return None


def available_memory() -> int | None:
    """Bytes of memory available now: MemAvailable, or the cgroup's limit minus its use if lower."""
    found: list[int] = []
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
            found.append(max(int(limit) - used, 0))
    except (OSError, ValueError):
        pass
    if not found:
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            return None
    return min(found)


def check_series(where: str | Path, planes: Sequence[SliceHeader]) -> list[str]:
    """Check every file of the series, then the series' size against the memory; returns warnings.

    Raises :class:`ClaimedSizeMismatch` / :class:`CorruptFile` for a file and
    :class:`TooLargeForMemory` for the series, before any pixel array is allocated.
    """
    notes: list[str] = []
    seen: set[str] = set()
    biggest_file = 0
    for h in planes:
        if h.path in seen:
            continue
        seen.add(h.path)
        note = check_file(h)
        if note:
            notes.append(note)
        if h.n_frames > 1 or not h.uncompressed:  # decoded whole by pydicom (multi-frame: kept while used)
            biggest_file = max(biggest_file, h.rows * h.columns * h.n_frames * max(h.bits_allocated // 8, 1))
    first = planes[0]
    volume_bytes = len(planes) * first.rows * first.columns * 2
    need = volume_bytes + biggest_file
    free = available_memory()
    if free is not None and need > free:
        raise TooLargeForMemory(
            where, f"the series claims {len(planes)} planes of {first.rows} x {first.columns} pixels: "
            f"{_size(need)} to read it, but {_size(free)} of memory are available",
            "Check the files' headers (Rows, Columns, NumberOfFrames): a chest CT is far smaller; "
            "if the scan is genuine, close other programs or load it on a machine with more memory")
    return notes
