"""The local archive: received and pulled instances laid out as ``patient/study/series/SOP.dcm``.

Every instance is written atomically: a temporary file in the series folder, flushed and fsync'd,
then renamed onto its final name and the folder fsync'd. A crash (or kill -9) leaves at most a
``.partial`` file, which is never read as an instance and is removed by :meth:`Archive.sweep`.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from viewer.pacs.errors import ArchiveError

PARTIAL = ".partial"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_component(text: str, fallback: str) -> str:
    """A file-name-safe folder name for a header value (patient IDs can hold anything)."""
    clean = _UNSAFE.sub("_", str(text or "")).strip("._")[:64]
    return clean or fallback


def is_uid(text: str) -> bool:
    return bool(text) and len(text) <= 64 and re.fullmatch(r"[0-9]+(\.[0-9]+)*", text) is not None


@dataclass(frozen=True, slots=True)
class InstanceKey:
    patient_id: str
    study_uid: str
    series_uid: str
    sop_uid: str


class Archive:
    def __init__(self, root: str | Path, min_free_mb: int = 0) -> None:
        self.root = Path(root).expanduser().absolute()
        self.min_free_mb = min_free_mb

    def series_dir(self, patient_id: str, study_uid: str, series_uid: str) -> Path:
        return self.root / safe_component(patient_id, "NO-ID") / study_uid / series_uid

    def path_for(self, key: InstanceKey) -> Path:
        return self.series_dir(key.patient_id, key.study_uid, key.series_uid) / f"{key.sop_uid}.dcm"

    def free_mb(self) -> float:
        probe = self.root
        while not probe.exists():
            probe = probe.parent
        return shutil.disk_usage(probe).free / 2**20

    def check_space(self, need_bytes: int = 0) -> None:
        free = self.free_mb()
        if free - need_bytes / 2**20 < self.min_free_mb:
            raise ArchiveError(self.root, f"has {free:.0f} MB free, below the {self.min_free_mb} MB kept free",
                               "Free disk space or move the archive (settings: pacs/local archive)")

    def write(self, key: InstanceKey, data: bytes | memoryview) -> Path:
        """Write one encoded DICOM file atomically; returns its final path (on disk when this returns)."""
        for uid in (key.study_uid, key.series_uid, key.sop_uid):
            if not is_uid(uid):
                raise ArchiveError(uid or "(empty UID)", "is not a valid DICOM UID",
                                   "The sender must give Study, Series and SOP Instance UIDs")
        self.check_space(len(data))
        final = self.path_for(key)
        try:
            final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=".", suffix=PARTIAL)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, final)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            _fsync_dir(final.parent)
        except OSError as exc:
            raise ArchiveError(final, f"cannot be written ({exc.strerror})",
                               "Check that the archive folder is writable and has space") from exc
        return final

    def sweep(self) -> int:
        """Remove leftovers of interrupted writes; returns how many were removed."""
        if not self.root.exists():
            return 0
        n = 0
        for p in self.root.rglob(f"*{PARTIAL}"):
            p.unlink(missing_ok=True)
            n += 1
        return n

    @staticmethod
    def instances(folder: str | Path) -> list[Path]:
        return sorted(p for p in Path(folder).glob("*.dcm") if p.is_file())


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
