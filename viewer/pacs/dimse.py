"""DIMSE service users (pynetdicom): C-ECHO, C-FIND, C-GET and C-STORE to a node.

Every association has connection, ACSE, DIMSE and network timeouts; every response loop is
bounded by a count and a deadline, so no call can hang or run without end.
"""

from __future__ import annotations

import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydicom import dcmread
from pydicom.dataset import Dataset
from pynetdicom import AE, build_role, evt
from pynetdicom.association import Association
from pynetdicom.sop_class import (  # type: ignore[attr-defined]  # names made at import time
    StudyRootQueryRetrieveInformationModelFind, StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove, Verification,
)

from viewer.pacs.errors import NodeConfigError, NodeUnreachable, PullCancelled, RemoteFailure
from viewer.pacs.nodes import LocalAE, Node
from viewer.pacs.query import SeriesHit, StudyHit, StudyQuery, series_from_dataset, study_from_dataset
from viewer.pacs.sop import STORAGE_CLASSES, TRANSFER_SYNTAXES

log = logging.getLogger(__name__)
PENDING = (0xFF00, 0xFF01)
MAX_SERIES_PER_STUDY = 500
MAX_GET_RESPONSES = 100_000


def tls_context(node: Node) -> ssl.SSLContext | None:
    if not node.uses_tls:
        return None
    missing = node.missing_tls_files()
    if missing:
        raise NodeConfigError(node.name, f"TLS file(s) not found: {', '.join(missing)}",
                              "Fix the paths with `nodulelens pacs nodes add --replace`")
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=node.tls_ca or None)
    ctx.check_hostname = bool(node.tls_ca)
    if not node.tls_ca:
        ctx.verify_mode = ssl.CERT_NONE  # no CA given: encrypt, but the node is not authenticated
    ctx.load_cert_chain(node.tls_cert, node.tls_key)
    return ctx


def no_delay(event: Any) -> None:
    """EVT_CONN_OPEN: send small PDUs (responses, command sets) at once instead of waiting for the
    peer's delayed ACK (Nagle's algorithm would add ~40 ms to many exchanges)."""
    sock = getattr(getattr(event.assoc.dul, "socket", None), "socket", None)
    if sock is not None:
        with suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def make_ae(local: LocalAE) -> AE:
    ae = AE(ae_title=local.ae_title)
    ae.connection_timeout = local.timeout_s
    ae.acse_timeout = local.timeout_s
    ae.dimse_timeout = local.timeout_s
    ae.network_timeout = local.timeout_s
    ae.maximum_pdu_size = 0  # unlimited: fewer, larger PDUs
    return ae


@contextmanager
def association(node: Node, local: LocalAE, contexts: Sequence[tuple[str, Sequence[str]]],
                handlers: list | None = None, roles: list | None = None) -> Iterator[Association]:
    """An established association to ``node``; released (or aborted on error) on exit."""
    if not node.port:
        raise NodeConfigError(node.name, "has no DICOM port", "Use its DICOMweb URL, or add --port")
    ae = make_ae(local)
    for abstract, syntaxes in contexts:
        ae.add_requested_context(abstract, list(syntaxes))
    ctx = tls_context(node)
    assoc = ae.associate(node.host, node.port, ae_title=node.ae_title,
                         evt_handlers=[(evt.EVT_CONN_OPEN, no_delay), *(handlers or [])],
                         ext_neg=roles or None, tls_args=(ctx, node.host) if ctx else None)
    if not assoc.is_established:
        why = "refused the association" if assoc.is_rejected else \
            "did not answer (connection refused, timed out or aborted)"
        raise NodeUnreachable(node.describe(), why,
                              "Check host, port and AE titles, and that the node knows our AE title "
                              f"{local.ae_title!r}; `nodulelens pacs echo {node.name}` tests it")
    try:
        yield assoc
    except BaseException:
        assoc.abort()
        raise
    else:
        assoc.release()


def echo(node: Node, local: LocalAE) -> float:
    """C-ECHO; returns the round trip in seconds."""
    t0 = time.monotonic()
    with association(node, local, [(Verification, (ExplicitLE, ImplicitLE))]) as assoc:
        status = assoc.send_c_echo()
        if not status or status.Status != 0:
            raise RemoteFailure(node.describe(), f"answered C-ECHO with status {_status(status)}",
                                "Check the node's log")
    return time.monotonic() - t0


ExplicitLE, ImplicitLE = TRANSFER_SYNTAXES[0], TRANSFER_SYNTAXES[1]
_FIND: list[tuple[str, Sequence[str]]] = [(StudyRootQueryRetrieveInformationModelFind, (ExplicitLE, ImplicitLE))]


def _status(status: Dataset | None) -> str:
    return "none (timeout or abort)" if not status else f"0x{int(status.Status):04X}"


def _responses(gen: Iterator[tuple[Dataset, Dataset | None]], node: Node, what: str, limit: int,
               deadline: float) -> Iterator[Dataset]:
    for n, (status, ident) in enumerate(gen):
        if not status:
            raise NodeUnreachable(node.describe(), f"stopped answering the {what}",
                                  "Check the network and the node; try again")
        if status.Status in PENDING:
            if ident is not None:
                yield ident
        elif status.Status != 0:
            raise RemoteFailure(node.describe(), f"answered the {what} with status {_status(status)}",
                                "Check the query and the node's log")
        if n >= limit or time.monotonic() > deadline:
            log.warning("%s: %s stopped after %d responses", node.name, what, n)
            return


def find(node: Node, local: LocalAE, query: StudyQuery, with_series: bool = True,
         deadline_s: float = 120.0) -> list[StudyHit]:
    """C-FIND (study root) for the studies, then one series-level C-FIND per study."""
    deadline = time.monotonic() + deadline_s
    with association(node, local, _FIND) as assoc:
        found = list(_responses(assoc.send_c_find(query.identifier(), StudyRootQueryRetrieveInformationModelFind),
                                node, "study query", query.limit, deadline))
        studies = []
        for ds in found:
            series: tuple[SeriesHit, ...] = ()
            if with_series and ds.get("StudyInstanceUID"):
                series = tuple(_series(assoc, node, str(ds.StudyInstanceUID), deadline))
            studies.append(study_from_dataset(ds, series))
    return sorted(studies, key=lambda s: (s.patient_id, s.study_date, s.study_uid))


def _series(assoc: Association, node: Node, study_uid: str, deadline: float) -> list[SeriesHit]:
    q = Dataset()
    q.QueryRetrieveLevel = "SERIES"
    q.StudyInstanceUID = study_uid
    for key in ("SeriesInstanceUID", "Modality", "SeriesDescription", "SeriesNumber",
                "NumberOfSeriesRelatedInstances"):
        setattr(q, key, "")
    gen = assoc.send_c_find(q, StudyRootQueryRetrieveInformationModelFind)
    return [series_from_dataset(d) for d in _responses(gen, node, "series query", MAX_SERIES_PER_STUDY, deadline)]


Sink = Callable[[Any], int]  # called with the pynetdicom C-STORE event; returns the status
Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True, slots=True)
class GetResult:
    completed: int
    failed: int
    warning: int


def _retrieve_identifier(study_uid: str, series_uid: str) -> Dataset:
    q = Dataset()
    q.QueryRetrieveLevel = "SERIES" if series_uid else "STUDY"
    q.StudyInstanceUID = study_uid
    if series_uid:
        q.SeriesInstanceUID = series_uid
    return q


def _follow(responses: Iterator[tuple[Dataset, Dataset | None]], node: Node, study_uid: str, what: str,
            progress: Progress | None, cancelled: Callable[[], bool] | None, deadline_s: float) -> GetResult:
    """Follow C-GET / C-MOVE responses (bounded in count and time) to the final status."""
    deadline = time.monotonic() + deadline_s
    last = None
    for n, (status, _ident) in enumerate(responses):
        if not status:
            raise NodeUnreachable(node.describe(), f"stopped answering the retrieve of study {study_uid}",
                                  "Check the network and the node; pull again (what arrived is kept)")
        last = status
        if status.Status in PENDING and progress is not None:
            done = int(status.get("NumberOfCompletedSuboperations", 0))
            left = int(status.get("NumberOfRemainingSuboperations", 0))
            progress(done, done + left)
        if cancelled is not None and cancelled():  # leaving the association's block aborts it
            raise PullCancelled(study_uid, "the pull was cancelled", "Pull again to fetch the rest")
        if n >= MAX_GET_RESPONSES or time.monotonic() > deadline:
            raise NodeUnreachable(node.describe(), f"did not finish sending study {study_uid} in time",
                                  "Pull again (what arrived is kept) or raise the time limit")
    if last is None or last.Status not in (0x0000, 0xB000):
        raise RemoteFailure(node.describe(), f"answered the {what} of study {study_uid} with status "
                            f"{_status(last)}", f"Check that the node allows {what} from our AE title")
    return GetResult(int(last.get("NumberOfCompletedSuboperations", 0)),
                     int(last.get("NumberOfFailedSuboperations", 0)),
                     int(last.get("NumberOfWarningSuboperations", 0)))


def get_study(node: Node, local: LocalAE, study_uid: str, sink: Sink, *, series_uid: str = "",
              progress: Progress | None = None, cancelled: Callable[[], bool] | None = None,
              deadline_s: float = 3600.0) -> GetResult:
    """C-GET a study (or one series of it); every instance is handed to ``sink`` as it arrives."""
    contexts: list[tuple[str, Sequence[str]]] = [(StudyRootQueryRetrieveInformationModelGet, (ExplicitLE, ImplicitLE))]
    contexts += [(c, TRANSFER_SYNTAXES) for c in STORAGE_CLASSES]
    roles = [build_role(c, scp_role=True) for c in STORAGE_CLASSES]
    q = _retrieve_identifier(study_uid, series_uid)
    with association(node, local, contexts, handlers=[(evt.EVT_C_STORE, sink)], roles=roles) as assoc:
        return _follow(assoc.send_c_get(q, StudyRootQueryRetrieveInformationModelGet), node, study_uid, "C-GET",
                       progress, cancelled, deadline_s)


def move_study(node: Node, local: LocalAE, study_uid: str, sink: Sink, *, series_uid: str = "",
               progress: Progress | None = None, cancelled: Callable[[], bool] | None = None,
               deadline_s: float = 3600.0) -> GetResult:
    """C-MOVE a study to our own AE title: a storage SCP on our port (accepting only ``node``'s AE
    title) hands every instance to ``sink`` while the move runs. The node must know our AE title,
    host and port (its "modalities"); where our listener already runs, pull by C-GET instead."""
    scp = make_ae(local)
    scp.require_calling_aet = [node.ae_title]
    for cls in STORAGE_CLASSES:
        scp.add_supported_context(cls, list(TRANSFER_SYNTAXES))
    try:
        server: Any = scp.start_server((local.bind, local.port), block=False,
                                       evt_handlers=[(evt.EVT_CONN_OPEN, no_delay), (evt.EVT_C_STORE, sink)])
    except OSError as exc:
        raise NodeUnreachable(f"{local.bind}:{local.port}", f"cannot receive the C-MOVE there ({exc.strerror})",
                              "Stop the listener using that port, or pull by C-GET") from exc
    try:
        q = _retrieve_identifier(study_uid, series_uid)
        with association(node, local, [(StudyRootQueryRetrieveInformationModelMove, (ExplicitLE, ImplicitLE))]) \
                as assoc:
            return _follow(assoc.send_c_move(q, local.ae_title, StudyRootQueryRetrieveInformationModelMove),
                           node, study_uid, "C-MOVE", progress, cancelled, deadline_s)
    finally:
        server.shutdown()


@dataclass(frozen=True, slots=True)
class SendResult:
    path: str
    sop_uid: str
    ok: bool
    status: str


def store_files(node: Node, local: LocalAE, files: list[Path], deadline_s: float = 600.0,
                handlers: list | None = None) -> list[SendResult]:
    """C-STORE each file on one association; one result per file (an association that breaks
    half-way: the rest fail). ``handlers``: pynetdicom event handlers (progress, tests)."""
    heads = []
    for f in files:
        ds = dcmread(f, stop_before_pixels=True)
        heads.append((f, str(ds.SOPClassUID), str(ds.SOPInstanceUID), str(ds.file_meta.TransferSyntaxUID)))
    contexts: dict[str, set[str]] = {}
    for _f, cls, _uid, ts in heads:
        contexts.setdefault(cls, {ExplicitLE, ImplicitLE}).add(ts)
    deadline = time.monotonic() + deadline_s
    results: list[SendResult] = []
    with association(node, local, [(c, tuple(sorted(t))) for c, t in contexts.items()],
                     handlers=handlers) as assoc:
        for f, _cls, uid, _ts in heads:
            if time.monotonic() > deadline or not assoc.is_established:
                results.append(SendResult(str(f), uid, False, "not sent (time limit or association lost)"))
                continue
            status = assoc.send_c_store(f)
            ok = bool(status) and status.Status in (0x0000, 0xB000, 0xB007, 0xB006)
            results.append(SendResult(str(f), uid, ok, _status(status)))
    return results
