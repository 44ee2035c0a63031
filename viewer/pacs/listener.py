"""The C-STORE SCP (pynetdicom): receives instances into the archive, groups them into series and
hands each series on when no new instance of it has arrived for the quiet time.

- Only the configured calling AE titles are accepted; others get an A-ASSOCIATE-RJ (rejected
  permanent, service user, "calling AE title not recognised").
- It binds to 127.0.0.1 unless told otherwise.
- The success status goes back only after the file is fsync'd and renamed (:class:`Archive`).
- A malformed dataset gets a failure status and a log line; the listener keeps running.
- Too little free disk space: "out of resources" status, nothing written.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pynetdicom import evt
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]  # names made at import time

from viewer.pacs.archive import Archive
from viewer.pacs.dimse import make_ae, no_delay
from viewer.pacs.errors import NodeConfigError, NodeUnreachable
from viewer.pacs.nodes import PacsConfig
from viewer.pacs.receive import SUCCESS, store_event
from viewer.pacs.sop import CT_CLASSES, STORAGE_CLASSES, TRANSFER_SYNTAXES

log = logging.getLogger(__name__)


class ListenerState(Enum):
    STOPPED = "stopped"
    LISTENING = "listening"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class CompletedSeries:
    """A series with no new instance for the quiet time."""

    series_uid: str
    study_uid: str
    patient_id: str
    folder: str
    n_instances: int
    is_ct: bool
    calling_ae: str


@dataclass(slots=True)
class _Open:
    study_uid: str
    patient_id: str
    folder: str
    is_ct: bool
    calling_ae: str
    count: int = 0
    last: float = 0.0


class SeriesTracker:
    """Series being received; :meth:`due` pops those quiet for ``quiet_s``."""

    def __init__(self, quiet_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.quiet_s = quiet_s
        self.clock = clock
        self._open: dict[str, _Open] = {}
        self._lock = threading.Lock()

    def touch(self, series_uid: str, study_uid: str, patient_id: str, folder: str, is_ct: bool,
              calling_ae: str) -> None:
        with self._lock:
            s = self._open.setdefault(series_uid, _Open(study_uid, patient_id, folder, is_ct, calling_ae))
            s.count += 1
            s.last = self.clock()

    def due(self, flush: bool = False) -> list[CompletedSeries]:
        now = self.clock()
        with self._lock:
            done = [uid for uid, s in self._open.items() if flush or now - s.last >= self.quiet_s]
            out = [self._open.pop(uid) for uid in done]
        return [CompletedSeries(uid, s.study_uid, s.patient_id, s.folder, len(Archive.instances(s.folder)),
                                s.is_ct, s.calling_ae) for uid, s in zip(done, out, strict=True)]

    def open_series(self) -> int:
        with self._lock:
            return len(self._open)


class Listener:
    """``start()`` serves in background threads; ``stop()`` closes it and flushes open series."""

    def __init__(self, config: PacsConfig, on_complete: Callable[[CompletedSeries], None] | None = None,
                 *, port: int | None = None, bind: str | None = None) -> None:
        self.config = config
        self.local = config.local
        self.port = int(port or self.local.port)
        self.bind = bind or self.local.bind
        self.archive = Archive(self.local.archive, self.local.min_free_mb)
        self.tracker = SeriesTracker(self.local.quiet_seconds)
        self.on_complete = on_complete
        self.state = ListenerState.STOPPED
        self.error = ""
        self.received = 0
        self.refused = 0
        self._server: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- life cycle ------------------------------------------------------------------------------
    def start(self) -> None:
        callers = self.config.callers()
        if not callers:
            raise NodeConfigError("listener", "no calling AE title is allowed to send",
                                  "Add the sending PACS as a node (`nodulelens pacs nodes add`)")
        swept = self.archive.sweep()
        if swept:
            log.warning("removed %d partial file(s) of interrupted transfers from %s", swept, self.archive.root)
        ae = make_ae(self.local)
        ae.dimse_timeout = max(self.local.timeout_s, 60.0)
        ae.require_calling_aet = list(callers)
        ae.add_supported_context(Verification)
        for cls in STORAGE_CLASSES:
            ae.add_supported_context(cls, list(TRANSFER_SYNTAXES))
        try:
            self._server = ae.start_server((self.bind, self.port), block=False,
                                           evt_handlers=[(evt.EVT_CONN_OPEN, no_delay),
                                                         (evt.EVT_C_STORE, self._on_store),
                                                         (evt.EVT_REJECTED, self._on_rejected)])
        except OSError as exc:
            self.state, self.error = ListenerState.FAILED, str(exc)
            raise NodeUnreachable(f"{self.bind}:{self.port}", f"cannot listen there ({exc.strerror})",
                                  "Choose another port with --port, or stop the program using it") from exc
        self.state = ListenerState.LISTENING
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="pacs-series-watch", daemon=True)
        self._thread.start()
        log.info("listening as %s on %s:%d, accepting %s", self.local.ae_title, self.bind, self.port,
                 ", ".join(callers))

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None
        self._finish(self.tracker.due(flush=True))
        self.state = ListenerState.STOPPED

    def status_line(self) -> str:
        if self.state is ListenerState.LISTENING:
            return (f"PACS listener: {self.local.ae_title} on {self.bind}:{self.port}, "
                    f"{self.received} received, {self.tracker.open_series()} series open")
        if self.state is ListenerState.FAILED:
            return f"PACS listener: failed ({self.error})"
        return "PACS listener: off"

    # -- series completion ---------------------------------------------------------------------
    def _watch(self) -> None:
        period = min(1.0, self.local.quiet_seconds / 4)
        while not self._stop.wait(period):
            self._finish(self.tracker.due())

    def _finish(self, done: list[CompletedSeries]) -> None:
        for series in done:
            log.info("series %s complete: %d instance(s) in %s", series.series_uid, series.n_instances,
                     series.folder)
            if self.on_complete is None:
                continue
            try:
                self.on_complete(series)
            except Exception:  # a failing screening must not stop the listener
                log.exception("handling the received series %s failed", series.series_uid)

    # -- DIMSE handlers (pynetdicom threads) ---------------------------------------------------
    def _on_rejected(self, event: Any) -> None:
        self.refused += 1
        log.warning("refused an association from %s (%s)", event.assoc.requestor.ae_title,
                    event.assoc.requestor.address)

    def _on_store(self, event: Any) -> int:
        out = store_event(self.archive, event)
        if out.status == SUCCESS and out.key is not None and out.path is not None:
            self.received += 1
            self.tracker.touch(out.key.series_uid, out.key.study_uid, out.key.patient_id, str(out.path.parent),
                               out.sop_class in CT_CLASSES, event.assoc.requestor.ae_title)
        return out.status
