"""The MetaImage header (``.mhd`` text beside a ``.raw``/``.zraw``, or the text part of a ``.mha``).

Parsed here, before any library allocates what it claims: the dimensions, the element type and
byte order, where the voxels are (file, offset, compression) and the spacing. A header that is
not what MetaImage allows raises an ImagingError naming the file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.imaging.errors import CorruptFile, UnsupportedFormat, UnsupportedSeries

#: MetaImage element types → numpy type (MetaIO's sizes: MET_LONG and MET_ULONG are 4 bytes)
ELEMENT_TYPES = {
    "MET_CHAR": "i1", "MET_UCHAR": "u1", "MET_SHORT": "i2", "MET_USHORT": "u2", "MET_INT": "i4",
    "MET_UINT": "u4", "MET_LONG": "i4", "MET_ULONG": "u4", "MET_LONG_LONG": "i8",
    "MET_ULONG_LONG": "u8", "MET_FLOAT": "f4", "MET_DOUBLE": "f8",
}
#: a header longer than this is not a MetaImage header
MAX_HEADER_BYTES = 64 * 1024
REWRITE = "Correct the header or write the MetaImage again from the original scan"


@dataclass(frozen=True, slots=True)
class MetaHeader:
    """What a MetaImage header claims; ``dims`` in file order (x fastest)."""

    dims: tuple[int, ...]
    dtype: np.dtype
    type_name: str
    channels: int
    data_file: Path
    #: bytes to skip in ``data_file`` before the voxels; None: the voxels are its last bytes
    offset: int | None
    compressed: bool
    compressed_size: int | None
    spacing: tuple[float, ...]
    matrix: tuple[float, ...]
    origin: tuple[float, ...]

    @property
    def data_bytes(self) -> int:
        return math.prod(self.dims) * self.channels * self.dtype.itemsize

    @property
    def describe(self) -> str:
        return f"DimSize {'×'.join(str(d) for d in self.dims)} of {self.type_name}"


def _header_lines(path: Path) -> tuple[dict[str, str], int]:
    """Key → value (keys lower-cased) up to ElementDataFile, and the byte offset after that line."""
    with open(path, "rb") as f:
        head = f.read(MAX_HEADER_BYTES)
    fields: dict[str, str] = {}
    pos = 0
    while pos < len(head):
        end = head.find(b"\n", pos)
        line_end = len(head) if end < 0 else end + 1
        text = head[pos:line_end].decode("latin-1").strip()
        pos = line_end
        if not text:
            continue
        key, eq, value = text.partition("=")
        if not eq:
            raise CorruptFile(path, f"the header line {text[:60]!r} is not 'Key = Value'", REWRITE)
        fields[key.strip().lower()] = value.strip()
        if key.strip().lower() == "elementdatafile":
            return fields, pos
    raise CorruptFile(path, "the header has no ElementDataFile line", REWRITE)


def _numbers(path: Path, fields: dict[str, str], key: str, count: int, default: float | None) -> tuple[float, ...]:
    text = fields.get(key.lower())
    if text is None:
        if default is None:
            raise CorruptFile(path, f"the header has no {key}", REWRITE)
        return (default,) * count
    try:
        values = tuple(float(v) for v in text.split())
    except ValueError:
        raise CorruptFile(path, f"the header's {key} '{text[:60]}' is not a list of numbers", REWRITE) from None
    if len(values) != count:
        raise CorruptFile(path, f"the header's {key} has {len(values)} values, NDims needs {count}", REWRITE)
    return values


def _flag(fields: dict[str, str], *keys: str) -> bool:
    return any(fields.get(k.lower(), "").lower() in ("true", "1") for k in keys)


def read_metaimage_header(path: Path) -> MetaHeader:
    fields, after_header = _header_lines(path)
    ndims = _numbers(path, fields, "NDims", 1, None)[0]
    if ndims != int(ndims) or not 1 <= ndims <= 4:
        raise CorruptFile(path, f"the header's NDims {ndims:g} is not 1 to 4", REWRITE)
    n = int(ndims)
    dim_values = _numbers(path, fields, "DimSize", n, None)
    if any(d != int(d) or d < 1 for d in dim_values):
        raise CorruptFile(path, f"the header's DimSize {list(dim_values)} holds a size below 1", REWRITE)
    type_name = fields.get("elementtype", "")
    if type_name not in ELEMENT_TYPES:
        raise UnsupportedSeries(path, f"ElementType '{type_name[:40]}' is not a greyscale CT intensity",
                                "Open a greyscale CT volume in Hounsfield units")
    msb = _flag(fields, "BinaryDataByteOrderMSB", "ElementByteOrderMSB")
    dtype = np.dtype((">" if msb else "<") + ELEMENT_TYPES[type_name])
    channels = _numbers(path, fields, "ElementNumberOfChannels", 1, 1.0)[0]
    if channels != int(channels) or channels < 1:
        raise CorruptFile(path, f"the header's ElementNumberOfChannels {channels:g} is not a count", REWRITE)
    if fields.get("binarydata", "true").lower() not in ("true", "1"):
        raise UnsupportedFormat(path, "the voxels are stored as text (BinaryData = False)",
                                "Write the MetaImage again with binary data")
    data_name = fields["elementdatafile"]
    if data_name.upper() == "LIST" or "%" in data_name or not data_name:
        raise UnsupportedFormat(path, f"the voxels are spread over several files (ElementDataFile = {data_name})",
                                "Write the MetaImage again as one .mhd + .raw or one .mha")
    local = data_name.upper() == "LOCAL"
    header_size = _numbers(path, fields, "HeaderSize", 1, 0.0)[0]
    if header_size != int(header_size) or header_size < -1:
        raise CorruptFile(path, f"the header's HeaderSize {header_size:g} is not -1 or a byte count", REWRITE)
    offset: int | None = None if header_size == -1 else int(header_size)
    if local:
        offset = after_header
    compressed = _flag(fields, "CompressedData")
    csize = fields.get("compresseddatasize")
    compressed_size = None
    if compressed and csize is not None:
        c = _numbers(path, fields, "CompressedDataSize", 1, None)[0]
        if c != int(c) or c < 1:
            raise CorruptFile(path, f"the header's CompressedDataSize {c:g} is not a byte count", REWRITE)
        compressed_size = int(c)
    spacing = _numbers(path, fields, "ElementSpacing", n, None) if "elementspacing" in fields \
        else _numbers(path, fields, "ElementSize", n, 1.0)
    matrix_key = next((k for k in ("TransformMatrix", "Rotation", "Orientation") if k.lower() in fields),
                      "TransformMatrix")
    identity = tuple(float(i == j) for i in range(n) for j in range(n))
    matrix = _numbers(path, fields, matrix_key, n * n, None) if matrix_key.lower() in fields else identity
    origin_key = next((k for k in ("Offset", "Position", "Origin") if k.lower() in fields), "Offset")
    origin = _numbers(path, fields, origin_key, n, 0.0)
    data_file = path if local else path.parent / data_name
    return MetaHeader(tuple(int(d) for d in dim_values), dtype, type_name, int(channels), data_file,
                      offset, compressed, compressed_size, spacing, matrix, origin)
