"""The pending-actions journal: review actions the store could not take, kept on disk until it can.

When a write to the store fails (full disk, read-only store, store busy) the session appends each
pending action to ``<store>.journal`` beside the store: one JSON line per action, the file 0600,
every append flushed and fsync'd before the session reports the failure. Undoing a pending action
appends a ``drop`` line. Once everything is in the store the journal is emptied (truncated).

On the next open of the store (:func:`replay`, called by :class:`~viewer.review.store.Store`) the
live actions are written in order, each with its reviewer and the time it was made. Replay is
idempotent: an action whose decision is already in the store (same series, finding, decision,
reviewer and time) is not applied again. Actions on a study signed off since are held, and said so.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from inference.domain.finding import Finding, FindingSource
from viewer.review import codec
from viewer.review.errors import JournalWriteError, ReviewError, StoreWriteError
from viewer.review.model import Decision, RejectReason, StudyStatus

if TYPE_CHECKING:
    from viewer.review.store import Store

SUFFIX = ".journal"
VERSION = 1


@dataclass(frozen=True, slots=True)
class PendingAction:
    """An action the reviewer made that is not in the store yet (``id`` names it in the journal)."""

    finding_id: str
    decision: Decision
    at: datetime
    reason: RejectReason | None = None
    comment: str = ""
    new: dict = field(default_factory=dict)
    undoes: int | None = None
    added: Finding | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)


def to_line(a: PendingAction, series_uid: str, reviewer: str) -> dict[str, Any]:
    return {"v": VERSION, "op": "pending", "id": a.id, "series": series_uid, "reviewer": reviewer,
            "finding_id": a.finding_id, "decision": a.decision.value,
            "at": a.at.astimezone(timezone.utc).isoformat(timespec="microseconds"),
            "reason": a.reason.value if a.reason else None, "comment": a.comment, "new": a.new,
            "undoes": a.undoes, "added": a.added is not None}


def from_line(d: dict[str, Any]) -> PendingAction:
    new = d.get("new") or {}
    added = None
    if d.get("added"):
        center, box = codec.parse_geometry(json.dumps(new["geometry"]))
        added = Finding(d["finding_id"], center, box, 1.0, FindingSource.REVIEWER, diameter_mm=new.get("diameter_mm"),
                        analysis=codec.parse_analysis_value(new.get("analysis")))
    return PendingAction(d["finding_id"], Decision(d["decision"]), datetime.fromisoformat(d["at"]),
                         reason=RejectReason(d["reason"]) if d.get("reason") else None,
                         comment=d.get("comment") or "", new=new, undoes=d.get("undoes"), added=added,
                         id=d["id"])


class Journal:
    """``<store>.journal``: append (fsync'd), read the live actions, settle."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @classmethod
    def beside(cls, store_path: str | Path) -> "Journal":
        p = Path(store_path)
        return cls(p.with_name(p.name + SUFFIX))

    @contextmanager
    def _locked(self, create: bool) -> Iterator[IO[bytes]]:
        flags = os.O_RDWR | (os.O_CREAT if create else 0)
        fd = os.open(self.path, flags, 0o600)
        with os.fdopen(fd, "r+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            yield f

    def append(self, *lines: dict[str, Any]) -> None:
        """Append ``lines`` and fsync them; raises :class:`JournalWriteError` naming the file."""
        try:
            existed = self.path.exists()
            with self._locked(create=True) as f:
                end = f.seek(0, os.SEEK_END)
                if end:  # a line torn by a crash must not swallow the next one
                    f.seek(end - 1)
                    if f.read(1) != b"\n":
                        f.write(b"\n")
                f.write(_encode(lines))
                f.flush()
                os.fsync(f.fileno())
            if not existed:  # the new name must survive a crash too
                dfd = os.open(self.path.parent, os.O_RDONLY)
                try:
                    os.fsync(dfd)
                finally:
                    os.close(dfd)
        except OSError as exc:
            raise JournalWriteError(self.path, f"cannot be written ({exc.strerror or exc})",
                                    "Free disk space or make the store's folder writable") from exc

    def live(self) -> list[dict[str, Any]]:
        """The pending lines not dropped, in order (a line torn by a crash is skipped)."""
        if not self.path.exists():
            return []
        with self._locked(create=False) as f:
            return _live(f.read().decode("utf-8", errors="replace"))

    def settle(self, store: Store) -> int:
        """Keep only the live actions not yet in ``store``; empty the file when none is left.
        Returns how many are left."""
        if not self.path.exists():
            return 0
        with self._locked(create=False) as f:
            left = [x for x in _live(f.read().decode("utf-8", errors="replace")) if not in_store(store, x)]
            f.seek(0)
            f.truncate()
            f.write(_encode(left))
            f.flush()
            os.fsync(f.fileno())
        return len(left)


def _encode(lines: Iterable[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(x, sort_keys=True) + "\n" for x in lines).encode("utf-8")


def _live(text: str) -> list[dict[str, Any]]:
    lines = []
    for raw in text.splitlines():
        try:
            lines.append(json.loads(raw))
        except json.JSONDecodeError:
            continue  # the last line of a write cut short by a crash: it was never reported saved
    dropped = {x.get("id") for x in lines if x.get("op") == "drop"}
    return [x for x in lines if x.get("op") == "pending" and x.get("id") not in dropped]


def in_store(store: Store, line: dict[str, Any]) -> bool:
    return store.has_decision(line["series"], line["finding_id"], Decision(line["decision"]), line["reviewer"],
                              datetime.fromisoformat(line["at"]))


def replay(store: Store) -> list[str]:
    """Write the journal's live actions into ``store`` (see the module doc); returns one line per
    series for the user (what was applied, held or could not be written)."""
    from viewer.review.session import ReviewSession

    journal = Journal.beside(store.path)
    try:
        live = [x for x in journal.live() if not in_store(store, x)]
    except (OSError, ValueError, KeyError) as exc:
        return [f"the pending-actions journal {journal.path} cannot be read ({exc}); it is kept as it is"]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for x in live:
        groups.setdefault((x["series"], x["reviewer"]), []).append(x)
    notes = []
    for (series, reviewer), lines in groups.items():
        try:
            session = ReviewSession(store, series, reviewer, journal=journal)
            if session.status is StudyStatus.SIGNED_OFF:
                notes.append(f"{len(lines)} unsaved action(s) of {reviewer} on series {series} are held in "
                             f"{journal.path}: the study was signed off since. Reopen it to apply them")
                continue
            session.restore([from_line(x) for x in lines])
            store.log("journal_replay", reviewer, series, detail={"applied": len(lines), "journal": str(journal.path)})
            notes.append(f"{len(lines)} unsaved action(s) of {reviewer} on series {series} were written from "
                         f"{journal.path}")
        except StoreWriteError as exc:
            notes.append(f"{len(lines)} unsaved action(s) on series {series} are still only in {journal.path}: {exc}")
        except ReviewError as exc:
            notes.append(f"{len(lines)} unsaved action(s) on series {series} in {journal.path} cannot be applied: "
                         f"{exc}")
    if not any("are held" in n or "still only" in n or "cannot be" in n for n in notes):
        with suppress(OSError):  # replay is idempotent: the next open finds them stored and skips them
            journal.settle(store)
    return notes
