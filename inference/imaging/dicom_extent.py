"""How much pixel data a DICOM file really holds, read from the element header (no pixels read).

After pydicom has read a header with ``stop_before_pixels`` the file is positioned at the
(7FE0,0010) PixelData element. Its header gives the byte length of native (uncompressed) data; for
encapsulated (compressed) data the length is undefined and the items are counted by seeking from
one item header to the next (the first item is the Basic Offset Table, each other one a fragment).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Literal

#: explicit VRs whose element header has a 4-byte length after two reserved bytes
LONG_VRS = frozenset({b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"UN", b"UT", b"SQ", b"UC", b"UR"})
UNDEFINED = 0xFFFFFFFF
ITEM_LE = b"\xfe\xff\x00\xe0"
SEQ_END_LE = b"\xfe\xff\xdd\xe0"
#: item headers read at most when counting fragments (a safety bound for damaged files)
MAX_ITEMS = 1_000_000
#: transfer syntaxes whose dataset is stored as it is read (deflate compresses the whole dataset)
NOT_MEASURABLE = frozenset({"1.2.840.10008.1.2.1.99"})
BIG_ENDIAN = "1.2.840.10008.1.2.2"
IMPLICIT = "1.2.840.10008.1.2"


@dataclass(frozen=True, slots=True)
class PixelExtent:
    """What the file's PixelData element holds.

    ``present``: the element is there. ``length``: the bytes of native data the file holds (its
    element length, or less where the file ends before), else None.
    ``fragments``: the number of fragments after the offset table (encapsulated data), else None.
    ``measured``: False where the layout could not be read (then nothing is claimed).
    """

    present: bool
    length: int | None = None
    fragments: int | None = None
    measured: bool = True


UNKNOWN = PixelExtent(present=True, measured=False)


def _tag(b: bytes, big: bool) -> tuple[int, int]:
    order: Literal["big", "little"] = "big" if big else "little"
    return int.from_bytes(b[0:2], order), int.from_bytes(b[2:4], order)


def pixel_extent(fp: BinaryIO, transfer_syntax: str) -> PixelExtent:
    """The extent of the PixelData element at ``fp``'s position (where pydicom stopped)."""
    if transfer_syntax in NOT_MEASURABLE:
        return UNKNOWN
    big = transfer_syntax == BIG_ENDIAN
    head = fp.read(12)
    if len(head) < 8:
        return PixelExtent(present=False)
    if _tag(head, big) != (0x7FE0, 0x0010):
        return UNKNOWN  # pydicom stopped elsewhere (e.g. a float or double pixel data element)
    order: Literal["big", "little"] = "big" if big else "little"
    if transfer_syntax == IMPLICIT:
        length = int.from_bytes(head[4:8], order)
        fp.seek(-4, 1)  # only 8 bytes belong to the element header
    elif head[4:6] in LONG_VRS:
        if len(head) < 12:
            return PixelExtent(present=True, length=0)
        length = int.from_bytes(head[8:12], order)
    else:
        length = int.from_bytes(head[6:8], order)
        fp.seek(-4, 1)
    if length != UNDEFINED:  # what the file holds: a truncated file holds less than the element says
        here = fp.tell()
        end = fp.seek(0, 2)
        return PixelExtent(present=True, length=min(length, max(end - here, 0)))
    return PixelExtent(present=True, fragments=max(_count_items(fp) - 1, 0))


def _count_items(fp: BinaryIO) -> int:
    """Items up to the sequence delimiter (or the end of the file, or a damaged item header)."""
    items = 0
    while items < MAX_ITEMS:
        head = fp.read(8)
        if len(head) < 8 or head[:4] != ITEM_LE:
            break
        items += 1
        fp.seek(int.from_bytes(head[4:8], "little"), 1)
    return items
