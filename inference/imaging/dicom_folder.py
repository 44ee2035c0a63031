"""Finding the DICOM files of a folder, and saying what is true when there are none to read.

An unreadable folder or file is a :class:`NotReadable` naming it (never "the folder is empty", never
a slice "missing" from a series whose file is there but locked). A folder that holds only a DICOMDIR
(the index of a CD or a USB stick) is told apart from an empty one: the DICOMDIR lists images that
live in other files, and the message names one of them so the user knows what to copy. When those
files are under the folder they are ordinary DICOM files and the walk finds them like any other.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pydicom

from inference.imaging.errors import ImagingError, MissingSlices, NoDicomFound, NotReadable

DICOMDIR = "DICOMDIR"
#: names listed in an error before "and N more"
NAMED = 5
FIX_PERMISSIONS = ("Make it readable for the user who runs NoduleLens (chmod/chown, or ask the owner), "
                   "or copy the series into a folder of your own")


def _names(paths: Sequence[str]) -> str:
    more = f" and {len(paths) - NAMED} more" if len(paths) > NAMED else ""
    return ", ".join(paths[:NAMED]) + more


def list_files(root: Path, recursive: bool) -> tuple[list[str], bool]:
    """Regular files under ``root`` (recursively), stable order, hidden files and DICOMDIR skipped;
    and whether ``root`` holds a DICOMDIR. Raises :class:`NotReadable` for a folder that cannot be
    listed (the root, or any folder below it: its files might belong to the series)."""
    locked: list[str] = []

    def refused(exc: OSError) -> None:
        locked.append(str(exc.filename or root))

    files: list[str] = []
    has_dicomdir = False
    if recursive:
        walk = os.walk(root, onerror=refused)
    else:
        try:
            names = os.listdir(root)
        except PermissionError as exc:
            refused(exc)
            names = []
        walk = iter([(str(root), [], names)])
    for dirpath, dirnames, filenames in walk:
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.upper() == DICOMDIR:
                has_dicomdir = has_dicomdir or Path(dirpath) == root
                continue
            path = os.path.join(dirpath, name)
            if not name.startswith(".") and (recursive or os.path.isfile(path)):
                files.append(path)
    if locked:
        what = "the folder" if locked == [str(root)] else f"{len(locked)} folder(s) in it ({_names(locked)})"
        raise NotReadable(locked[0] if len(locked) == 1 else root,
                          f"{what} cannot be read (permission denied), so its files cannot be listed",
                          FIX_PERMISSIONS)
    return files, has_dicomdir


def is_dicom(path: str) -> bool:
    """'DICM' at byte 128, or (old files without preamble) a group-0008 tag at byte 0.

    Raises :class:`PermissionError` for a file that cannot be opened for that reason."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(132)
    except PermissionError:
        raise
    except OSError:
        return False
    if len(head) >= 132 and head[128:132] == b"DICM":
        return True
    return len(head) >= 8 and head[:2] in (b"\x08\x00", b"\x02\x00") and head[2:4] < b"\x20\x00"


def dicom_files(root: Path, files: Sequence[str]) -> list[str]:
    """The DICOM files among ``files``; :class:`NotReadable` naming every file that cannot be opened."""
    found: list[str] = []
    locked: list[str] = []
    for f in files:
        try:
            if is_dicom(f):
                found.append(f)
        except PermissionError:
            locked.append(f)
    if locked:
        raise NotReadable(locked[0] if len(locked) == 1 else root,
                          f"{len(locked)} file(s) cannot be read (permission denied): {_names(locked)}; "
                          "a series missing them would be incomplete", FIX_PERMISSIONS)
    return found


def referenced_files(dicomdir: Path) -> list[str]:
    """The image files a DICOMDIR lists, as paths relative to its folder (ReferencedFileID)."""
    ds = pydicom.dcmread(dicomdir, force=True)
    if "DirectoryRecordSequence" not in ds:
        raise ValueError("no DirectoryRecordSequence")
    out: list[str] = []
    for rec in ds.DirectoryRecordSequence:
        ref = rec.get("ReferencedFileID")
        if ref is None:
            continue
        parts = [ref] if isinstance(ref, str) else [str(p) for p in ref]
        out.append(os.path.join(*parts))
    return out


def listed_images(root: Path) -> dict[str, dict[str, str]]:
    """The images ``root``'s DICOMDIR lists: series UID -> {SOPInstanceUID: file ID}; {} when the
    index cannot be read (the image files themselves are what is loaded and checked).

    The records are walked by their offsets (root entity, then each record's next and lower-level
    links), with the series UID of each SERIES record passed down to its images; pydicom's FileSet
    would drop the records whose files are missing, which are the ones this is for."""
    index = next((p for p in root.iterdir() if p.name.upper() == DICOMDIR), None)
    out: dict[str, dict[str, str]] = {}
    if index is None:
        return out
    try:
        ds = pydicom.dcmread(index, force=True)
        records = {int(r.seq_item_tell): r for r in ds.DirectoryRecordSequence}
        todo = [(int(ds.OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity), "")]
        seen: set[int] = set()
        while todo:
            offset, series = todo.pop()
            rec = records.get(offset)
            if rec is None or offset in seen:
                continue
            seen.add(offset)
            nxt, lower = rec.get("OffsetOfTheNextDirectoryRecord", 0), \
                rec.get("OffsetOfReferencedLowerLevelDirectoryEntity", 0)
            if nxt:
                todo.append((int(nxt), series))
            here = str(rec.get("SeriesInstanceUID", "")) if rec.DirectoryRecordType == "SERIES" else series
            if lower:
                todo.append((int(lower), here))
            sop, ref = rec.get("ReferencedSOPInstanceUIDInFile"), rec.get("ReferencedFileID")
            if here and sop and ref:
                parts = [ref] if isinstance(ref, str) else [str(p) for p in ref]
                out.setdefault(here, {})[str(sop)] = os.path.join(*parts)
    except Exception:  # pydicom raises many types on a damaged index (see the docstring)
        return {}
    return out


def unlisted_check(root: Path, series_uid: str, found: set[str], listed: dict[str, str]) -> ImagingError | None:
    """MissingSlices when the DICOMDIR lists images of the series whose files are not in the folder
    (a partly copied disc: without this, missing end slices would give a shorter, clean-looking scan)."""
    missing = sorted(fid for sop, fid in listed.items() if sop not in found)
    if not missing:
        return None
    return MissingSlices(
        root / DICOMDIR, f"the DICOMDIR lists {len(listed)} image(s) of series {series_uid} but "
        f"{len(missing)} of them are not in the folder: {_names(missing)}",
        "The disc or folder was copied incompletely: copy the whole series again")


def only_dicomdir(root: Path) -> ImagingError:
    """The error for a folder whose only DICOM content is its DICOMDIR index."""
    fix = ("Copy the whole disc or folder, including the folders the DICOMDIR points to, or choose the "
           "folder that holds the image files themselves")
    index = next((p for p in root.iterdir() if p.name.upper() == DICOMDIR), root / DICOMDIR)
    what = "the folder holds only a DICOMDIR index (the directory of a CD or USB stick), no images"
    try:
        refs = referenced_files(index)
    except PermissionError:
        return NotReadable(index, f"{what}, and the index cannot be read (permission denied)", FIX_PERMISSIONS)
    except Exception as exc:  # pydicom raises many types on a damaged index
        return NoDicomFound(index, f"{what}, and the index itself cannot be read ({type(exc).__name__}: {exc})",
                            fix)
    if not refs:
        return NoDicomFound(index, f"{what}; the index lists no image files", fix)
    missing = [r for r in refs if not (root / r).is_file()]
    return NoDicomFound(
        index, f"{what}: it lists {len(refs)} file(s), e.g. {refs[0]}, and {len(missing)} of them are not "
        "in the folder", fix)
