"""Stored pixel values against the header's BitsStored: read the values the file holds, or refuse.

A pixel cell has BitsAllocated bits; the value is in its low BitsStored bits (unsigned, or two's
complement when PixelRepresentation is 1). Writers normally fill the unused high bits so that the
full cell reads as the same number: zeros for unsigned values, copies of the sign bit for signed
ones. Every value is then already within the BitsStored range, and reading the cell whole and
reading only its stored bits give the same number.

A value outside that range means the header and the data disagree, and there are two readings:

* the header under-states BitsStored (a scanner writes 16-bit values but says 12): the whole cell
  is the value, and keeping only the stored bits wraps it by 2**BitsStored (e.g. metal at
  +4500 HU becomes +404 HU, padding at -3024 becomes +1072 HU, i.e. bone);
* the high bits hold something else (the retired embedded overlay planes, or junk the standard
  allows there): the stored bits are the value.

Nothing in the data tells the two apart in general, so neither is certain and the loader refuses
(:class:`BitsStoredExceeded`, naming the files, the count of voxels and the range found). Two cases
are certain and are read without asking:

* the file declares an overlay in the high bits (an (60xx,0102) OverlayBitPosition at or above
  BitsStored): the stored bits are the value, as the standard defines for such overlays;
* every value outside the range is, read whole, the header's own PixelPaddingValue (or inside its
  PixelPaddingRangeLimit): the header names that exact value as padding, so the whole cell is
  meant and those voxels become air like any other padding. The count is reported in
  ``volume.info.warnings``.

The check runs on the raw cells (never on pydicom's array, which drops the high bits by default).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from inference.imaging.dicom_headers import SliceHeader
from inference.imaging.errors import BitsStoredExceeded

#: files named in the error before "and N more"
NAMED = 5


def stored_range(h: SliceHeader) -> tuple[int, int]:
    """The smallest and largest value BitsStored and PixelRepresentation allow."""
    if h.signed:
        return -(1 << (h.bits_stored - 1)), (1 << (h.bits_stored - 1)) - 1
    return 0, (1 << h.bits_stored) - 1


def keep_stored_bits(raw: np.ndarray, h: SliceHeader) -> np.ndarray:
    """The value in the low BitsStored bits of each cell (sign-extended when signed), as int32/int64."""
    wide: np.ndarray = np.bitwise_and(raw.astype(np.int64 if h.bits_allocated > 16 else np.int32),
                                      (1 << h.bits_stored) - 1)
    if h.signed:
        top = 1 << (h.bits_stored - 1)
        wide = np.where(wide >= top, wide - 2 * top, wide)
    return wide


@dataclass(frozen=True, slots=True)
class Beyond:
    """Cells of one plane outside the BitsStored range that no certain reading explains."""

    path: str
    count: int
    low: int
    high: int


def conform(raw: np.ndarray, h: SliceHeader) -> tuple[np.ndarray, Beyond | None, int]:
    """The plane's values, the unexplained cells beyond BitsStored (or None), and how many cells
    beyond it are the declared padding value (kept whole so that the padding check sees them)."""
    if h.bits_stored >= h.bits_allocated or raw.size == 0:
        return raw, None, 0
    lo, hi = stored_range(h)
    if int(raw.min()) >= lo and int(raw.max()) <= hi:
        return raw, None, 0
    if h.overlay_in_high_bits:
        return keep_stored_bits(raw, h), None, 0
    out = (raw < lo) | (raw > hi)
    if h.padding is not None:
        plo, phi = h.padding
        padding = (raw >= plo) & (raw <= phi)
        if not np.any(out & ~padding):
            return raw, None, int(np.count_nonzero(out))
    bad = raw[out]
    return raw, Beyond(h.path, int(bad.size), int(bad.min()), int(bad.max())), 0


def refuse(found: Sequence[Beyond], first: SliceHeader, total_files: int) -> BitsStoredExceeded:
    """One error for every plane with unexplained values (named by file, largest count first)."""
    by_file: dict[str, list[Beyond]] = {}
    for b in found:
        by_file.setdefault(b.path, []).append(b)
    files = sorted(by_file, key=lambda f: -sum(b.count for b in by_file[f]))
    voxels = sum(b.count for b in found)
    low, high = min(b.low for b in found), max(b.high for b in found)
    lo, hi = stored_range(first)
    sign = "signed" if first.signed else "unsigned"
    names = ", ".join(os.path.basename(f) for f in files[:NAMED])
    more = f" and {len(files) - NAMED} more" if len(files) > NAMED else ""
    subject = files[0] if len(files) == 1 else os.path.dirname(files[0]) or files[0]
    return BitsStoredExceeded(
        subject,
        f"{voxels} voxel(s) in {len(files)} of {total_files} file(s) ({names}{more}) hold stored values "
        f"{low}..{high}, outside the {lo}..{hi} that BitsStored {first.bits_stored} ({sign}, "
        f"BitsAllocated {first.bits_allocated}) allows: the header does not describe the pixel data, "
        f"and reading only the {first.bits_stored} stored bits would shift those voxels by "
        f"{1 << first.bits_stored} (wrong Hounsfield units)",
        "Export the series again from the scanner or PACS with the correct BitsStored (and HighBit), "
        "or ask the vendor which of the two is right; NoduleLens does not guess")


def padding_note(count: int, h: SliceHeader) -> str:
    """The warning for padding cells that were read whole although they exceed BitsStored."""
    lo, hi = h.padding or (0, 0)
    value = f"{lo}" if lo == hi else f"{lo}..{hi}"
    return (f"{count} padding voxel(s) hold PixelPaddingValue {value}, which is outside BitsStored "
            f"{h.bits_stored}; they were read as padding (air), not as {h.bits_stored}-bit values")
