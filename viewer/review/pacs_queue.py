"""The store's PACS tables: the persistent send queue (outbox) and the received series.

A send that fails is never dropped: its row stays ``pending`` with its error and the time of the
next try (exponential back-off, capped), and is retried by :func:`due` callers after a restart too.
Every attempt is also an ``audit`` row (``pacs_send``) of the series it belongs to.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from viewer.review.store import Store

BACKOFF_S = 15.0
MAX_BACKOFF_S = 3600.0
#: after this many failed attempts (about two days with the back-off) an object is no longer retried
#: automatically: it stays in the queue as ``abandoned`` (listed, audited), never silently dropped
MAX_ATTEMPTS = 60


class OutboxState(Enum):
    PENDING = "pending"
    SENT = "sent"
    ABANDONED = "abandoned"


class ReceivedSource(Enum):
    LISTENER = "listener"
    PULL = "pull"


@dataclass(frozen=True, slots=True)
class OutboxItem:
    seq: int
    node: str
    file_path: str
    sop_uid: str
    kind: str
    series_uid: str
    state: OutboxState
    attempts: int
    last_error: str


@dataclass(frozen=True, slots=True)
class ReceivedSeries:
    series_uid: str
    study_uid: str
    patient_id: str
    source: ReceivedSource
    origin: str
    folder: str
    n_instances: int
    received_at: str


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _item(r: dict) -> OutboxItem:
    return OutboxItem(r["seq"], r["node"], r["file_path"], r["sop_uid"], r["kind"], r["series_uid"] or "",
                      OutboxState(r["state"]), r["attempts"], r["last_error"])


def enqueue(store: "Store", node: str, items: list[tuple[str, str, str]], series_uid: str = "") -> list[int]:
    """Queue (file_path, sop_uid, kind) items for ``node``; returns their queue numbers."""
    now = _iso(_now())

    def tx(c: sqlite3.Connection) -> list[int]:
        seqs = []
        for path, sop, kind in items:
            cur = c.execute("INSERT INTO pacs_outbox (node, file_path, sop_uid, kind, series_uid, created_at, "
                            "updated_at, next_try_at) VALUES (?,?,?,?,?,?,?,?)",
                            (node, path, sop, kind, series_uid or None, now, now, now))
            seqs.append(int(cur.lastrowid or 0))
        return seqs
    return store.transaction("queueing objects to send", tx)


def record_attempt(store: "Store", seq: int, ok: bool, status: str, actor: str = "pacs") -> None:
    """The outcome of one send attempt: sent, or pending again with back-off; audited either way."""
    now = _now()

    def tx(c: sqlite3.Connection) -> None:
        row = c.execute("SELECT node, sop_uid, kind, series_uid, attempts FROM pacs_outbox WHERE seq=?",
                        (seq,)).fetchone()
        if row is None:
            return
        node, sop, kind, series_uid, attempts = row
        attempts += 1
        wait = min(MAX_BACKOFF_S, BACKOFF_S * 2 ** (attempts - 1))
        state = OutboxState.SENT if ok else \
            OutboxState.ABANDONED if attempts >= MAX_ATTEMPTS else OutboxState.PENDING
        c.execute("UPDATE pacs_outbox SET state=?, attempts=?, last_error=?, updated_at=?, next_try_at=? "
                  "WHERE seq=?", (state.value, attempts, "" if ok else status, _iso(now),
                                  _iso(now + timedelta(seconds=wait)), seq))
        store.append_audit(c, actor, "pacs_send", series_uid, detail={
            "node": node, "sop_uid": sop, "kind": kind, "ok": ok, "status": status, "attempt": attempts,
            "state": state.value})
    store.transaction("recording a send attempt", tx)


def due(store: "Store", node: str | None = None, limit: int = 500, now: datetime | None = None) -> list[OutboxItem]:
    """Pending items whose next try is due (all pending ones with ``now`` far ahead)."""
    sql = "SELECT * FROM pacs_outbox WHERE state='pending' AND next_try_at<=?"
    args: list = [_iso(now or _now())]
    if node:
        sql += " AND node=?"
        args.append(node)
    return [_item(r) for r in store.query(sql + " ORDER BY seq LIMIT ?", (*args, int(limit)))]


def items(store: "Store", state: OutboxState | None = None) -> list[OutboxItem]:
    if state is None:
        return [_item(r) for r in store.query("SELECT * FROM pacs_outbox ORDER BY seq")]
    return [_item(r) for r in store.query("SELECT * FROM pacs_outbox WHERE state=? ORDER BY seq", (state.value,))]


def record_received(store: "Store", series_uid: str, study_uid: str, patient_id: str, source: ReceivedSource,
                    origin: str, folder: str, n_instances: int) -> None:
    now = _iso(_now())

    def tx(c: sqlite3.Connection) -> None:
        c.execute("INSERT INTO pacs_received VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(series_uid) DO UPDATE SET "
                  "n_instances=excluded.n_instances, received_at=excluded.received_at, folder=excluded.folder",
                  (series_uid, study_uid, patient_id, source.value, origin, folder, n_instances, now))
        store.append_audit(c, origin or source.value, f"pacs_{source.value}", series_uid,
                     detail={"instances": n_instances, "folder": folder})
    store.transaction("recording a received series", tx)


def received(store: "Store", limit: int = 1000) -> list[ReceivedSeries]:
    rows = store.query("SELECT * FROM pacs_received ORDER BY received_at DESC LIMIT ?", (int(limit),))
    return [ReceivedSeries(r["series_uid"], r["study_uid"], r["patient_id"], ReceivedSource(r["source"]),
                           r["origin"], r["folder"], r["n_instances"], r["received_at"]) for r in rows]
