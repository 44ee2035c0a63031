"""Sending objects to a node with a persistent queue: queued first, then attempted, the outcome of
each object recorded (and audited); failures stay queued and are retried (also after a restart).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from viewer.pacs import dimse, web
from viewer.pacs.errors import PacsError
from viewer.pacs.nodes import PacsConfig, Protocol
from viewer.review import pacs_queue
from viewer.review.pacs_queue import OutboxItem

if TYPE_CHECKING:
    from viewer.review.store import Store

MAX_BATCH = 500
_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class SendOutcome:
    seq: int
    node: str
    path: str
    sop_uid: str
    kind: str
    ok: bool
    status: str

    def line(self) -> str:
        return f"{'sent  ' if self.ok else 'QUEUED'} {self.kind:<5} {self.sop_uid}  -> {self.node}: {self.status}"


class Sender:
    def __init__(self, config: PacsConfig, store: "Store", actor: str = "pacs", prefer_web: bool = False,
                 handlers: list | None = None) -> None:
        self.config = config
        self.handlers = handlers  # pynetdicom event handlers for the sending association
        self.store = store
        self.actor = actor
        self.prefer_web = prefer_web

    def send(self, node_name: str, objects: list[tuple[str, str, str]], series_uid: str = "") -> list[SendOutcome]:
        """Queue (path, sop uid, kind) objects for ``node_name`` and try to send them now."""
        self.config.node(node_name)  # an unknown node is an error before anything is queued
        seqs = pacs_queue.enqueue(self.store, node_name, objects, series_uid)
        pending = {i.seq: i for i in pacs_queue.items(self.store, pacs_queue.OutboxState.PENDING)}
        return self._attempt(node_name, [pending[s] for s in seqs if s in pending])

    def retry_due(self, *, all_pending: bool = False, deadline_s: float = 300.0) -> list[SendOutcome]:
        """Try the queued objects whose next try is due (or all pending ones), node by node."""
        due = pacs_queue.due(self.store, limit=MAX_BATCH, now=_FAR_FUTURE if all_pending else None)
        by_node: dict[str, list[OutboxItem]] = {}
        for item in due:
            by_node.setdefault(item.node, []).append(item)
        out: list[SendOutcome] = []
        t_end = time.monotonic() + deadline_s
        for node, items in by_node.items():
            if time.monotonic() > t_end:
                break
            out += self._attempt(node, items)
        return out

    def _attempt(self, node_name: str, items: list[OutboxItem]) -> list[SendOutcome]:
        if not items:
            return []
        results: dict[int, tuple[bool, str]] = {}
        present = [i for i in items if Path(i.file_path).is_file()]
        for i in items:
            if i not in present:
                results[i.seq] = (False, f"file missing: {i.file_path}")
        try:
            node = self.config.node(node_name)
            paths = [Path(i.file_path) for i in present]
            if node.protocol(self.prefer_web) is Protocol.DICOMWEB:
                sent = [(ok, status) for _p, _u, ok, status in web.store_files(node, self.config.local, paths)]
            else:
                sent = [(r.ok, r.status) for r in dimse.store_files(node, self.config.local, paths,
                                                                    handlers=self.handlers)]
            for i, r in zip(present, sent, strict=True):
                results[i.seq] = r
        except PacsError as exc:
            for i in present:
                results[i.seq] = (False, f"{exc.problem}")
        out = []
        for i in items:
            ok, status = results[i.seq]
            pacs_queue.record_attempt(self.store, i.seq, ok, status, actor=self.actor)
            out.append(SendOutcome(i.seq, node_name, i.file_path, i.sop_uid, i.kind, ok, status))
        return out
