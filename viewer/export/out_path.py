"""Where an export goes, checked before anything is written: exports that never surprise.

- ``check_output`` refuses, with a typed :class:`OutputPathError` naming the path, an empty path,
  a file where the format writes a folder (SR, Parametric Maps, PDF, Secondary Capture, SEG into a
  folder) and a folder where it writes one file (CSV, JSON, SEG as ``*.dcm``), a path below a file
  or in a folder that cannot be written, a link or a device as a file output; and, unless
  ``force``, an output that already exists (:class:`OutputExists`: a file, a folder holding
  anything, or the de-identification record).
- ``deid_record_path``: the de-identification record belongs to its export: ``deidentification.json``
  inside a folder export, ``<file name>.deidentification.json`` beside a file export.
- Exports with patient data are private like the review store: files 0600, the folders the export
  creates 0700 (``prepare_output`` before writing, ``make_private`` after). A de-identified export
  keeps the process's normal umask. A folder that existed before keeps its mode.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from viewer.export.errors import ExportError

FILE_MODE = 0o600
FOLDER_MODE = 0o700
RECORD_NAME = "deidentification.json"


class OutputPathError(ExportError):
    """The output path cannot take this export (empty, wrong kind, not writable)."""


class OutputExists(OutputPathError):
    """The output is already there; it is replaced only with ``--force``."""


def writes_folder(fmt_value: str, out: Path) -> bool:
    """True when the format writes a folder at ``out`` (SEG does unless ``out`` ends in .dcm)."""
    if fmt_value in ("csv", "json"):
        return False
    return not (fmt_value == "seg" and out.suffix.lower() == ".dcm")


def deid_record_path(out: Path, folder: bool) -> Path:
    return out / RECORD_NAME if folder else out.parent / f"{out.name}.{RECORD_NAME}"


def check_output(fmt_value: str, out: str | Path, *, force: bool = False, deidentify: bool = False) -> Path:
    """The output path, or a typed error saying what is wrong with it and what to do."""
    if not str(out).strip():
        raise OutputPathError("--out", "is empty: no file or folder to write",
                              "Give the file or folder to write, e.g. --out study-export")
    path = Path(out).expanduser()
    try:
        return _checked(fmt_value, path, force, deidentify)
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte, a path the system refuses
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise OutputPathError(str(out), f"is not a usable path: {reason}",
                              "Give a shorter or plainer file or folder name") from exc


def _checked(fmt_value: str, path: Path, force: bool, deidentify: bool) -> Path:
    folder = writes_folder(fmt_value, path)
    if folder and path.exists() and not path.is_dir():
        raise OutputPathError(path, f"is a file, but a {fmt_value} export writes a folder",
                              "Give the name of a folder (it is created), or remove the file")
    if not folder and path.is_dir():
        raise OutputPathError(path, f"is a folder, but a {fmt_value} export writes one file",
                              f"Give a file name, e.g. {path / ('study.' + _ext(fmt_value))}")
    if not folder and (path.is_symlink() or (path.exists() and not path.is_file())):
        raise OutputPathError(path, "is a link, a device or a pipe, not a plain file or folder",
                              "Give the path of a plain file or folder to write")
    _check_parent(path)
    if not force:
        _refuse_existing(path, folder, deid_record_path(path, folder) if deidentify else None)
    return path


def _ext(fmt_value: str) -> str:
    return "dcm" if fmt_value == "seg" else fmt_value


def _check_parent(path: Path) -> None:
    """The nearest existing folder above ``path`` must be a folder we may write in."""
    probe = path if path.is_dir() else path.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise OutputPathError(path, f"cannot be created: {probe} is a file, not a folder",
                              "Choose a path in an existing folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputPathError(path, f"cannot be written: no permission to write in {probe}",
                              "Choose a folder you can write to")


def _refuse_existing(path: Path, folder: bool, record: Path | None) -> None:
    if folder and path.is_dir():
        held = sorted(p.name for p in path.iterdir())
        if held:
            shown = ", ".join(held[:3]) + (f" and {len(held) - 3} more" if len(held) > 3 else "")
            raise OutputExists(path, f"already holds {len(held)} file(s) ({shown}); the export would "
                               "overwrite them", "Choose a new folder, or pass --force to overwrite")
    elif path.exists():
        raise OutputExists(path, "already exists; the export would overwrite it",
                           "Choose another name, or pass --force to overwrite")
    if record is not None and not folder and record.exists():
        raise OutputExists(record, "already exists (the de-identification record of an earlier export)",
                           "Choose another name, or pass --force to overwrite")


def prepare_output(path: Path, folder: bool, private: bool) -> None:
    """Create the export's folder (0700 when private) or, for a private file, the file itself
    with mode 0600 so that its data is never readable by others, not even while it is written."""
    if folder:
        if not path.is_dir():
            path.mkdir(parents=True, mode=FOLDER_MODE if private else 0o777)
            if private:
                os.chmod(path, FOLDER_MODE)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if private:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        os.close(fd)
        os.chmod(path, FILE_MODE)


def make_private(files: Iterable[Path], folders: Iterable[Path] = ()) -> None:
    """Files 0600 and the given folders (those the export created) 0700."""
    for folder in folders:
        if folder.is_dir():
            os.chmod(folder, FOLDER_MODE)
    for f in files:
        if f.is_file() and not f.is_symlink():
            os.chmod(f, FILE_MODE)


def remove_created(path: Path, folder: bool) -> None:
    """Take back what a failed export created: its folder (with what it wrote) or its file."""
    if folder and path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif not folder and path.is_file():
        path.unlink()
