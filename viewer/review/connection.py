"""Opening the store file safely, and turning SQLite failures into typed review errors.

- A new store is created readable by its owner only (0600, folder 0700): it holds patient data.
- WAL journal, ``synchronous=FULL``, a busy timeout and ``BEGIN IMMEDIATE`` writes, so a committed
  action survives a crash or power cut and two app instances take turns instead of corrupting it.
- A file that is not a NoduleLens store (or is damaged) is refused and copied aside first; it is
  never written to, migrated or replaced.
- A read-only file or folder opens read-only: browsing works, writes raise :class:`StoreReadOnly`.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from viewer.review import schema
from viewer.review.errors import (
    ReviewError, StoreBusy, StoreCorrupt, StoreFull, StoreReadOnly, StoreTooNew, StoreWriteError,
)

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 10_000


def open_store(path: Path, read_only: bool = False) -> tuple[sqlite3.Connection, bool]:
    """Open (creating and migrating when needed) the store at ``path``; returns (conn, read_only).

    ``read_only=True`` opens an existing store for reading only, as a read-only file does."""
    if path.is_dir():
        raise ReviewError(path, "is a folder, not a store file",
                          "Give the path of a file, e.g. --db ~/nodulelens.db")
    existed = path.exists() and path.stat().st_size > 0
    if existed:
        _check_header(path)
    writable = _writable(path) and not (read_only and existed)
    if not existed:
        if not writable:
            raise StoreReadOnly(path, "cannot create the review store here (no write permission)",
                                "Choose a writable location with --db or NODULELENS_DB")
        _create_private(path)
    if existed:  # look before touching: switching to WAL would already write to a foreign file
        probe = _connect(path, read_only=True)
        try:
            _check(probe, path)
        finally:
            probe.close()
    conn = _connect(path, read_only=not writable)
    try:
        _migrate(conn, path, read_only=not writable)
    except BaseException:
        conn.close()
        raise
    return conn, not writable


def _writable(path: Path) -> bool:
    folder = path.parent
    if not folder.exists():
        probe = folder
        while not probe.exists():
            probe = probe.parent
        return os.access(probe, os.W_OK | os.X_OK)
    if not os.access(folder, os.W_OK | os.X_OK):
        return False  # WAL needs its -wal and -shm files next to the store
    return not path.exists() or os.access(path, os.W_OK)


def _create_private(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def _connect(path: Path, read_only: bool) -> sqlite3.Connection:
    try:
        return _open(path, read_only, immutable=False)
    except sqlite3.DatabaseError as exc:
        error = exc
    folder_ro = not os.access(path.parent, os.W_OK | os.X_OK)
    if read_only and folder_ro and not Path(f"{path}-wal").exists():
        # WAL needs a -shm file next to the store; in a read-only folder, and with no -wal left
        # behind (a clean close), the file alone is the whole database: read it as immutable.
        try:
            return _open(path, True, immutable=True)
        except sqlite3.DatabaseError as exc:
            error = exc
    text = str(error).lower()
    if getattr(error, "sqlite_errorname", "") in ("SQLITE_NOTADB", "SQLITE_CORRUPT") \
            or "not a database" in text or "malformed" in text:
        raise _refuse(path, f"SQLite cannot read it ({error})") from error
    raise ReviewError(path, f"SQLite cannot open it ({error})",
                      "Check the permissions of the file, its -wal/-shm files and its folder, "
                      "or use --db for another store") from error


def _open(path: Path, read_only: bool, immutable: bool) -> sqlite3.Connection:
    uri = f"{path.as_uri()}?mode={'ro' if read_only else 'rw'}{'&immutable=1' if immutable else ''}"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                           check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not read_only:
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # opens the file for real
    except BaseException:
        conn.close()
        raise
    return conn


def _check_header(path: Path) -> None:
    try:
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise ReviewError(path, f"cannot be read ({exc.strerror})",
                          "Check the file's permissions (it should belong to you, mode 600), "
                          "or use --db for another store") from exc
    if head != SQLITE_HEADER:
        raise _refuse(path, "is not an SQLite database (damaged or another kind of file)")


def _check(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a damaged or foreign file, or one from a newer version (read-only connection)."""
    try:
        version = schema.user_version(conn)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        ok = conn.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise _refuse(path, f"cannot be read ({exc})") from exc
    if ok != "ok":
        raise _refuse(path, f"fails SQLite's integrity check ({ok})")
    if version > schema.SCHEMA_VERSION:
        raise StoreTooNew(path, f"was written by a newer NoduleLens (schema {version}, this one "
                          f"knows up to {schema.SCHEMA_VERSION})",
                          "Update NoduleLens, or open another store with --db")
    if version == 0 and tables:
        raise _refuse(path, "is an SQLite database but not a NoduleLens review store")
    if version >= 1 and not tables >= schema.REQUIRED_TABLES:
        raise _refuse(path, f"lacks tables {sorted(schema.REQUIRED_TABLES - tables)}")


def _migrate(conn: sqlite3.Connection, path: Path, read_only: bool) -> None:
    try:
        version = schema.user_version(conn)
    except sqlite3.DatabaseError as exc:
        raise _refuse(path, f"cannot be read ({exc})") from exc
    if version < schema.SCHEMA_VERSION:
        if read_only:
            raise StoreReadOnly(path, f"needs upgrading to schema {schema.SCHEMA_VERSION} but is read-only",
                                "Make the file and its folder writable, or open it with the older version")
        try:
            schema.migrate(conn)
        except sqlite3.Error as exc:
            raise write_error(path, exc, "upgrading the store") from exc


def _refuse(path: Path, problem: str) -> StoreCorrupt:
    """Copy the refused file aside (never touching it) and build the error that says so."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    backup = path.with_name(f"{path.name}.corrupt-{stamp}.bak")
    try:
        shutil.copy2(path, backup)
        os.chmod(backup, 0o600)
        kept = f"A copy is at {backup}"
        backup_s = str(backup)
    except OSError as exc:
        kept = f"No backup copy could be written ({exc.strerror})"
        backup_s = ""
    return StoreCorrupt(path, f"{problem}; it was not changed. {kept}",
                        "Move it away (or restore a backup) and start again, or use --db for "
                        "another store", backup=backup_s)


def write_error(path: Path | str, exc: sqlite3.Error, what: str) -> StoreWriteError:
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc).lower()
    if name.startswith("SQLITE_READONLY") or "readonly" in text or "read-only" in text:
        return StoreReadOnly(path, f"{what} failed: the store is read-only",
                             "Make the store file and its folder writable; the action is kept "
                             "pending and retried")
    if name == "SQLITE_FULL" or "full" in text:
        return StoreFull(path, f"{what} failed: the disk is full",
                         "Free disk space; the action is kept pending and retried")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return StoreBusy(path, f"{what} failed: another NoduleLens kept the store busy",
                         "Try again; the action is kept pending and retried")
    return StoreWriteError(path, f"{what} failed: {exc}",
                           "Check the disk; the action is kept pending and retried")
