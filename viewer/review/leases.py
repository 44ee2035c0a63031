"""Per-series leases in the store, so that concurrent screeners share the work. Qt-free.

Two ``nodulelens screen`` runs on one store (or a run and the Ray driver) plan the same series.
Before a screener runs inference on a series it takes the series' lease in one ``BEGIN IMMEDIATE``
transaction (:func:`acquire`): a row of ``series_leases`` naming the holder (``host:pid:run``) and
an expiry (unix seconds). While it works a :class:`Renewer` thread pushes the expiry forward; on
finish or failure the lease is released. Another screener that finds the lease held by someone else
goes on with other series and comes back to it (:func:`claim_in_turn`): by then the series is
screened (it is skipped) or the lease has expired because its holder died (it is taken over, with
a ``lease_takeover`` audit row) — at once where the holder ran on this machine and its process is
gone (:func:`holder_gone`), so re-running a killed ``screen`` does not wait for the expiry. A
result is stored only by the lease's holder (:func:`guard`, run inside the storing transaction),
so a screener that lost its lease (paused past the expiry and taken over) stores nothing.

Expiry is compared with this machine's clock: screeners on several machines need clocks that agree
to well within the lease duration (default :data:`DEFAULT_LEASE_S`).
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from enum import StrEnum
from pathlib import Path
from typing import Protocol, TypeVar

from viewer.review.errors import ReviewError, StoreWriteError
from viewer.review.store import Guard, Store

#: seconds a lease lasts without renewal (a killed screener's series are taken over after this)
DEFAULT_LEASE_S = 120.0


class LeaseLost(ReviewError):
    """The series' lease is held by another screener: this one's result is not stored."""


class Claim(StrEnum):
    ACQUIRED = "acquired"  # ours: screen it
    HELD = "held"          # another live screener holds it: come back later
    DONE = "done"          # another screener stored a result since this run planned the series


class Plannable(Protocol):
    """What :func:`claim_in_turn` needs of a job: its series and what the store held when planned."""

    @property
    def series_uid(self) -> str: ...

    @property
    def screened_at(self) -> str: ...


J = TypeVar("J", bound=Plannable)


def holder_id(run: int | str) -> str:
    """``host:pid:run``: who holds a lease (one screening run of one process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{run}"


def screened_at(store: Store, series_uid: str) -> str:
    """The series' last screening time as stored ("" = never, or not stored): what a run saw when it
    planned the series (``SeriesJob.screened_at``), for :func:`acquire`'s ``seen``."""
    rows = store.query("SELECT screened_at FROM series WHERE series_uid=?", (series_uid,))
    return str(rows[0]["screened_at"] or "") if rows else ""


def acquire(store: Store, series_uid: str, holder: str, *, seen: str = "", duration_s: float = DEFAULT_LEASE_S,
            actor: str = "screening", clock: Callable[[], float] = time.time) -> tuple[Claim, str]:
    """Take (or renew) the lease of ``series_uid`` for ``holder`` unless a live one is held by
    another; ``seen`` is the series' ``screened_at`` when the run planned it ("" = never screened):
    a different one now means another screener stored a result meanwhile. Returns (claim, the other
    holder for HELD)."""
    def tx(c: sqlite3.Connection) -> tuple[Claim, str]:
        row = c.execute("SELECT screened_at FROM series WHERE series_uid=?", (series_uid,)).fetchone()
        if row is not None and (row[0] or "") != seen:
            return Claim.DONE, ""
        now = clock()
        lease = c.execute("SELECT holder, expires_at FROM series_leases WHERE series_uid=?",
                          (series_uid,)).fetchone()
        live = lease is not None and lease[1] > now and not holder_gone(lease[0])
        if lease is not None and lease[0] != holder and live:
            return Claim.HELD, str(lease[0])
        c.execute("INSERT OR REPLACE INTO series_leases (series_uid, holder, acquired_at, expires_at) "
                  "VALUES (?,?,?,?)", (series_uid, holder, _iso(now), now + duration_s))
        if lease is not None and lease[0] != holder and row is not None:
            store.append_audit(c, actor, "lease_takeover", series_uid, detail={
                "from": lease[0], "to": holder, "expires_at": _iso(lease[1]),
                "reason": "expired" if lease[1] <= now else "its process on this machine has ended"})
        return Claim.ACQUIRED, ""
    return store.transaction(f"taking the screening lease of series {series_uid}", tx)


def holder_gone(holder: str) -> bool:
    """True when ``holder`` ran on this machine and its process has ended (killed): its leases need
    not wait for their expiry. A holder elsewhere, or a process id now reused, counts as alive (it
    then waits for the expiry); a process id of another container mistaken for ended costs at most
    one inference twice, never a second stored result (:func:`guard`)."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    try:  # a killed child not yet reaped by its parent is a zombie: ended
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def renew(store: Store, series_uids: Sequence[str], holder: str, duration_s: float,
          clock: Callable[[], float] = time.time) -> set[str]:
    """Push the expiry of ``holder``'s leases forward; returns the series whose lease it no longer holds."""
    def tx(c: sqlite3.Connection) -> set[str]:
        lost = set()
        for uid in series_uids:
            cur = c.execute("UPDATE series_leases SET expires_at=? WHERE series_uid=? AND holder=?",
                            (clock() + duration_s, uid, holder))
            if cur.rowcount != 1:
                lost.add(uid)
        return lost
    return store.transaction("renewing the screening leases", tx) if series_uids else set()


def release(store: Store, series_uid: str, holder: str) -> None:
    """Give the lease back (a no-op where ``holder`` no longer holds it)."""
    store.transaction("releasing the screening lease", lambda c: c.execute(
        "DELETE FROM series_leases WHERE series_uid=? AND holder=?", (series_uid, holder)))


def guard(series_uid: str, holder: str) -> Guard:
    """A check for :meth:`Store.record_screening` / ``record_screen_failure``: the write goes
    through only while ``holder`` holds the series' lease."""
    def check(c: sqlite3.Connection) -> None:
        row = c.execute("SELECT holder FROM series_leases WHERE series_uid=?", (series_uid,)).fetchone()
        if row is None or row[0] != holder:
            raise LeaseLost(series_uid, f"is being screened by {row[0] if row else 'no one'}, not by "
                            f"{holder} (this screener's lease expired and was taken over)",
                            "Nothing to do: the other screener stores the result")
    return check


def holders(store: Store) -> dict[str, str]:
    """series UID -> holder of every lease in the store (live or expired)."""
    return {r["series_uid"]: r["holder"] for r in store.query("SELECT series_uid, holder FROM series_leases")}


def claim_in_turn(store: Store, jobs: Sequence[J], holder: str, *, duration_s: float = DEFAULT_LEASE_S,
                  actor: str = "screening", say: Callable[[str], None] | None = None,
                  sleep: Callable[[float], None] = time.sleep) -> Iterator[tuple[J, Claim]]:
    """Each job with ACQUIRED (ours: screen it, then release) or DONE (another screener stored it).
    Jobs whose lease another screener holds come after the others, polled until that screener
    stores its result or its lease expires; every yielded ACQUIRED is a lease to release."""
    pending: deque[J] = deque(jobs)
    told: set[str] = set()
    poll = min(2.0, max(0.1, duration_s / 10))
    while pending:
        progressed = False
        for _ in range(len(pending)):
            job = pending.popleft()
            if not job.series_uid:  # a damaged file of no known series: nothing to lease
                progressed = True
                yield job, Claim.ACQUIRED
                continue
            claim, other = acquire(store, job.series_uid, holder, seen=job.screened_at,
                                   duration_s=duration_s, actor=actor)
            if claim is Claim.HELD:
                if say is not None and job.series_uid not in told:
                    say(f"{job.series_uid}: being screened by {other}; waiting for its result")
                    told.add(job.series_uid)
                pending.append(job)
                continue
            progressed = True
            yield job, claim
        if pending and not progressed:
            sleep(poll)


class Renewer:
    """A daemon thread renewing this holder's leases every third of their duration until closed;
    ``close()`` releases the leases still held (the series of an interrupted run are free at once)."""

    def __init__(self, store: Store, holder: str, duration_s: float = DEFAULT_LEASE_S) -> None:
        self.store, self.holder, self.duration_s = store, holder, duration_s
        self._held: set[str] = set()
        self.lost: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="nodulelens-lease", daemon=True)
        self._thread.start()

    def hold(self, series_uid: str) -> None:
        if series_uid:
            with self._lock:
                self._held.add(series_uid)

    def drop(self, series_uid: str) -> None:
        """Stop renewing and release the lease of ``series_uid``."""
        if not series_uid:
            return
        with self._lock:
            self._held.discard(series_uid)
        release(self.store, series_uid, self.holder)

    def _loop(self) -> None:
        while not self._stop.wait(self.duration_s / 3):
            with self._lock:
                held = sorted(self._held)
            # busy or full: tried again at the next tick; the storing guard has the last word
            with contextlib.suppress(StoreWriteError):
                self.lost |= renew(self.store, held, self.holder, self.duration_s)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5.0)
        with self._lock:
            held, self._held = sorted(self._held), set()
        for uid in held:
            with contextlib.suppress(StoreWriteError):  # else the lease expires on its own
                release(self.store, uid, self.holder)

    def __enter__(self) -> "Renewer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="microseconds")
