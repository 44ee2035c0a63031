"""Checks that a NIfTI or MetaImage file holds the voxels its header promises, before any reader
allocates them.

- Plain data: the file's byte count against header offset + dims × element size (one column too
  few or too many is a refusal, not a sheared volume).
- Compressed data (``.nii.gz``, ``.zraw``, compressed ``.mha``): first the compressed size against
  the most that deflate can expand it to (a 65535×65535 header on a few kilobytes is refused at
  once), then the stream is decompressed in chunks, never held whole: a stream that ends early,
  fails its checksum or yields more or fewer bytes than promised is refused.
- Float voxels are checked for NaN and ±inf in the same pass (SimpleITK turns a NaN of a NIfTI
  file into 0, i.e. soft tissue, without a word).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from inference.imaging.errors import CorruptFile
from inference.imaging.metaimage_header import MetaHeader
from inference.imaging.nifti_header import NiftiHeader

CHUNK = 4 * 1024 * 1024
#: deflate expands at most ~1032:1; a claim beyond this cannot be in the file
MAX_DEFLATE_RATIO = 1100
AGAIN = "The file is truncated or damaged: copy or export it again"


def _size_text(n: int) -> str:
    return f"{n:,} bytes" if n < 10_000_000 else f"{n / 1e9:.3g} GB"


class _Counter:
    """Counts the voxel bytes of a stream (after ``skip`` header bytes) and the non-finite floats."""

    def __init__(self, skip: int, dtype: np.dtype, limit: int) -> None:
        self.skip = skip
        self.dtype = dtype
        self.limit = limit
        self.total = 0
        self.non_finite = 0
        self.first_bad: int | None = None
        self._carry = b""

    def feed(self, data: bytes) -> None:
        if self.skip:
            cut = min(self.skip, len(data))
            data = data[cut:]
            self.skip -= cut
        if not data:
            return
        base = self.total - len(self._carry)  # byte index of the first byte of carry + data
        self.total += len(data)
        if self.dtype.kind != "f":
            return
        data = self._carry + data
        usable = len(data) - len(data) % self.dtype.itemsize
        self._carry = data[usable:]
        bad = ~np.isfinite(np.frombuffer(data[:usable], dtype=self.dtype))
        if bad.any():
            if self.first_bad is None:
                self.first_bad = base // self.dtype.itemsize + int(np.argmax(bad))
            self.non_finite += int(bad.sum())

    @property
    def over(self) -> bool:
        return self.total > self.limit


def _file_chunks(f: BinaryIO, start: int) -> Iterator[bytes]:
    f.seek(start)
    while chunk := f.read(CHUNK):
        yield chunk


def _compare(subject: Path, where: str, have: int, promised: int, describe: str, at_least: bool = False) -> None:
    if have < promised:
        raise CorruptFile(subject, f"{where} holds {_size_text(have)} of voxel data but the header promises "
                          f"{_size_text(promised)} ({describe}): the file is truncated or the header's "
                          "sizes are too big", "Copy or export the scan again; a volume is not read from "
                          "part of its data")
    if have > promised:
        raise CorruptFile(subject, f"{where} holds {'at least ' if at_least else ''}{_size_text(have)} of "
                          f"voxel data, more than the {_size_text(promised)} the header promises ({describe}): "
                          "the header's sizes do not match "
                          "the data (read as it is, the volume would be sheared)",
                          "Correct the header's sizes or export the scan again")


def _non_finite(subject: Path, counter: _Counter, dims: tuple[int, ...]) -> None:
    if not counter.non_finite:
        return
    where = ""
    if counter.first_bad is not None and counter.first_bad < int(np.prod(dims)):
        idx = np.unravel_index(counter.first_bad, dims[::-1])
        where = f", the first at voxel {tuple(int(i) for i in idx[::-1])} (file order, x first)"
    raise CorruptFile(subject, f"{counter.non_finite} voxel(s) are NaN or infinite{where}; they have no "
                      "Hounsfield value", "Export the scan again from its source; a scan is not "
                      "screened with voxels of unknown density")


def _ratio_check(subject: Path, compressed: int, promised: int, describe: str) -> None:
    if promised > compressed * MAX_DEFLATE_RATIO + 1024:
        raise CorruptFile(subject, f"the header claims {describe} ({_size_text(promised)}) but the compressed "
                          f"data is only {_size_text(compressed)}, which cannot hold them",
                          "The header is damaged or the file truncated: export the scan again")


def check_nifti_data(path: Path, hdr: NiftiHeader) -> None:
    """Raise CorruptFile unless ``path`` holds exactly the voxels ``hdr`` promises, all finite."""
    promised = hdr.data_bytes
    counter = _Counter(hdr.vox_offset, hdr.dtype, promised)
    if not hdr.gzipped:
        size = path.stat().st_size
        _compare(path, "the file", max(0, size - hdr.vox_offset), promised, hdr.describe)
        if hdr.dtype.kind == "f":
            with open(path, "rb") as f:
                for chunk in _file_chunks(f, 0):
                    counter.feed(chunk)
            _non_finite(path, counter, hdr.dims)
        return
    _ratio_check(path, path.stat().st_size, hdr.vox_offset + promised, hdr.describe)
    try:
        complete = _inflate(path, 0, counter, gzip_members=True)
    except zlib.error as exc:
        raise CorruptFile(path, f"the gzip stream is damaged ({exc})", AGAIN) from exc
    if not complete:
        raise CorruptFile(path, f"the gzip stream ends early, after {_size_text(counter.total)} of the "
                          f"{_size_text(promised)} of voxel data the header promises ({hdr.describe})", AGAIN)
    _compare(path, "the decompressed file", counter.total, promised, hdr.describe, counter.over)
    _non_finite(path, counter, hdr.dims)


def _inflate(path: Path, start: int, counter: _Counter, gzip_members: bool) -> bool:
    """Decompress ``path`` from byte ``start`` (zlib or gzip framing, checksums checked by zlib) in
    bounded chunks into ``counter``; True when the stream ended properly (or more than promised
    came out). Further gzip members are read as gzip does; zero padding after the end is allowed."""
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)
    with open(path, "rb") as f:
        for chunk in _file_chunks(f, start):
            pending = chunk
            while pending and not counter.over:
                if inflater.eof:
                    if not gzip_members or not pending.strip(b"\0"):
                        return True
                    inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)
                counter.feed(inflater.decompress(pending, CHUNK))
                pending = inflater.unconsumed_tail or (inflater.unused_data if inflater.eof else b"")
            if counter.over:
                return True
    return inflater.eof


def check_metaimage_data(path: Path, hdr: MetaHeader) -> None:
    """Raise CorruptFile unless the data file of the header ``path`` holds exactly what it promises."""
    data = hdr.data_file
    where = "the file" if data == path else f"its data file {data.name}"
    if not data.is_file():
        raise CorruptFile(path, f"the data file {data.name} named by ElementDataFile does not exist",
                          f"Put {data.name} next to {path.name}, or correct ElementDataFile")
    size = data.stat().st_size
    promised = hdr.data_bytes
    counter = _Counter(0, hdr.dtype, promised)
    if not hdr.compressed:
        start = size - promised if hdr.offset is None else hdr.offset
        _compare(path, where, max(0, size - start) if hdr.offset is not None else min(size, promised),
                 promised, hdr.describe)
        if hdr.dtype.kind == "f":
            with open(data, "rb") as f:
                for chunk in _file_chunks(f, start):
                    counter.feed(chunk)
            _non_finite(path, counter, hdr.dims)
        return
    start = hdr.offset or 0
    available = max(0, size - start)
    if hdr.compressed_size is not None and available < hdr.compressed_size:
        raise CorruptFile(path, f"{where} holds {_size_text(available)} of compressed data but "
                          f"CompressedDataSize is {_size_text(hdr.compressed_size)}: it is truncated", AGAIN)
    _ratio_check(path, available, promised, hdr.describe)
    try:
        complete = _inflate(data, start, counter, gzip_members=False)
    except zlib.error as exc:
        raise CorruptFile(path, f"the compressed data in {data.name} is damaged ({exc})", AGAIN) from exc
    if not complete:
        raise CorruptFile(path, f"the compressed data in {data.name} ends early, after "
                          f"{_size_text(counter.total)} of the {_size_text(promised)} the header promises "
                          f"({hdr.describe})", AGAIN)
    _compare(path, f"the decompressed data of {data.name}", counter.total, promised, hdr.describe,
             counter.over)
    _non_finite(path, counter, hdr.dims)
