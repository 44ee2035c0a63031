"""DICOMweb (dicomweb-client): QIDO-RS search and ping, WADO-RS retrieve, STOW-RS store.

Requests have a timeout; searches a result limit; retrieves a deadline.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import requests
from pydicom import dcmread
from pydicom.dataset import Dataset

from viewer.pacs.errors import NodeConfigError, NodeUnreachable, PullCancelled, RemoteFailure
from viewer.pacs.nodes import Auth, LocalAE, Node
from viewer.pacs.query import SeriesHit, StudyHit, StudyQuery, series_from_dataset, study_from_dataset

STUDY_FIELDS = ("PatientID", "PatientName", "StudyDate", "StudyDescription", "ModalitiesInStudy",
                "NumberOfStudyRelatedInstances", "StudyInstanceUID")
MAX_INSTANCES = 100_000


class _LiteralWildcards(requests.Session):
    """Sends the QIDO-RS wildcards ``*`` and ``?`` literally in the query string (RFC 3986 allows
    them there): some servers (Orthanc 1.10's plugin) do not percent-decode query values."""

    _LITERAL = (("%2A", "*"), ("%3F", "?"))

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        url = request.url or ""
        if "?" in url:
            head, query = url.split("?", 1)
            for coded, char in self._LITERAL:
                query = query.replace(coded, char).replace(coded.lower(), char)
            request.url = f"{head}?{query}"
        return super().send(request, **kwargs)


def client(node: Node, local: LocalAE) -> Any:
    from dicomweb_client.api import DICOMwebClient

    if not node.web_url:
        raise NodeConfigError(node.name, "has no DICOMweb URL", "Add one with --web-url, or use DIMSE")
    session = _LiteralWildcards()
    headers = {}
    if node.auth is Auth.BASIC:
        session.auth = (node.username, node.secret)
    elif node.auth is Auth.BEARER:
        headers["Authorization"] = f"Bearer {node.secret}"
    return DICOMwebClient(node.web_url.rstrip("/"), session=session, headers=headers or None,
                          timeout=local.timeout_s)


def _call(node: Node, what: str, fn: Callable[[], Any]) -> Any:
    from requests.exceptions import ConnectionError as ConnErr
    from requests.exceptions import HTTPError, Timeout

    try:
        return fn()
    except HTTPError as exc:
        code = exc.response.status_code if exc.response is not None else "?"
        fix = "Check the user name and password/token" if code in (401, 403) else "Check the node's log"
        raise RemoteFailure(node.describe(), f"answered the {what} with HTTP {code}", fix) from exc
    except (ConnErr, Timeout) as exc:
        raise NodeUnreachable(node.describe(), f"did not answer the {what} ({type(exc).__name__})",
                              "Check the URL and that the server is running") from exc


def ping(node: Node, local: LocalAE) -> float:
    """A one-result QIDO-RS search; returns the round trip in seconds."""
    c = client(node, local)
    t0 = time.monotonic()
    _call(node, "QIDO-RS ping", lambda: c.search_for_studies(limit=1))
    return time.monotonic() - t0


def _dataset(obj: dict) -> Dataset:
    return Dataset.from_json(obj)


def _name_matches(pattern: str, name: str) -> bool:
    """DICOM wildcard match of a person name, case-insensitive (``*`` any run, ``?`` one character)."""
    rx = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(rx, name, flags=re.IGNORECASE) is not None


def find(node: Node, local: LocalAE, query: StudyQuery, with_series: bool = True) -> list[StudyHit]:
    c = client(node, local)
    params = query.qido_params()
    if "^" in params.get("PatientName", ""):
        # urllib3 always percent-encodes '^' and some servers do not decode it: ask with '?' (one
        # character) in its place; the exact matches are kept below
        params["PatientName"] = params["PatientName"].replace("^", "?")
    found = _call(node, "QIDO-RS study search", lambda: c.search_for_studies(
        search_filters=params, limit=query.limit, fields=list(STUDY_FIELDS)))
    studies = []
    for obj in found[:query.limit]:
        ds = _dataset(obj)
        if query.patient_name and not _name_matches(query.patient_name, str(ds.get("PatientName", ""))):
            continue
        series: tuple[SeriesHit, ...] = ()
        if with_series and ds.get("StudyInstanceUID"):
            uid = str(ds.StudyInstanceUID)
            rows = _call(node, "QIDO-RS series search", partial(c.search_for_series, study_instance_uid=uid,
                                                                limit=500))
            series = tuple(series_from_dataset(_dataset(r)) for r in rows)
        studies.append(study_from_dataset(ds, series))
    return sorted(studies, key=lambda s: (s.patient_id, s.study_date, s.study_uid))


def encoded(ds: Dataset) -> bytes:
    """The DICOM file bytes of a retrieved dataset (as sent: its transfer syntax is kept)."""
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def retrieve_study(node: Node, local: LocalAE, study_uid: str, sink: Callable[[Dataset], None], *,
                   progress: Callable[[int, int], None] | None = None, total: int = 0,
                   cancelled: Callable[[], bool] | None = None, deadline_s: float = 3600.0) -> int:
    """WADO-RS: every instance of the study is handed to ``sink``; returns how many."""
    c = client(node, local)
    deadline = time.monotonic() + deadline_s
    it: Iterator[Dataset] = _call(node, "WADO-RS retrieve", lambda: c.iter_study(
        study_uid, media_types=(("application/dicom", "*"),)))
    n = 0
    while True:
        ds: Dataset | None = _call(node, "WADO-RS retrieve", partial(next, it, None))
        if ds is None:
            break
        sink(ds)
        n += 1
        if progress is not None:
            progress(n, max(total, n))
        if cancelled is not None and cancelled():
            raise PullCancelled(study_uid, "the pull was cancelled", "Pull again to fetch the rest")
        if n >= MAX_INSTANCES or time.monotonic() > deadline:
            raise NodeUnreachable(node.describe(), f"did not finish sending study {study_uid} in time",
                                  "Pull again (what arrived is kept)")
    return n


def store_files(node: Node, local: LocalAE, files: list[Path]) -> list[tuple[str, str, bool, str]]:
    """STOW-RS, one request per file so that each gets its own result: (path, sop uid, ok, status)."""
    c = client(node, local)
    out = []
    for f in files:
        ds = dcmread(f)
        uid = str(ds.SOPInstanceUID)
        try:
            resp: Dataset | None = _call(node, "STOW-RS store", partial(c.store_instances, [ds]))
        except (RemoteFailure, NodeUnreachable) as exc:
            out.append((str(f), uid, False, exc.problem))
            continue
        failed = resp.get("FailedSOPSequence") if resp is not None else None
        out.append((str(f), uid, not failed, "failed" if failed else "stored"))
    return out
