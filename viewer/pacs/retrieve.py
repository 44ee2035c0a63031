"""Pulling a study and its priors from a node into the archive, registered in the store.

The study is found first (C-FIND / QIDO-RS), then the patient's earlier CT studies within
``priors_years``; each is retrieved by C-GET (or WADO-RS), written atomically into the archive
(``patient/study/series``) and its CT series registered in the store (the follow-up comparison
finds them there by patient).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydicom.dataset import Dataset

from viewer.pacs import dimse, web
from viewer.pacs.archive import Archive, InstanceKey
from viewer.pacs.errors import RemoteFailure
from viewer.pacs.nodes import Node, PacsConfig, Protocol
from viewer.pacs.query import StudyHit, StudyQuery, priors_range
from viewer.pacs.receive import SUCCESS, store_event
from viewer.review.pacs_queue import ReceivedSource

if TYPE_CHECKING:
    from viewer.review.store import Store

Progress = Callable[[float, str], None]


class RetrieveMethod(Enum):
    C_GET = "c-get"
    C_MOVE = "c-move"


@dataclass(frozen=True, slots=True)
class PulledStudy:
    study: StudyHit
    is_prior: bool
    n_instances: int
    series_folders: tuple[str, ...]
    registered: tuple[str, ...]  # CT series UIDs put in the store


@dataclass(frozen=True, slots=True)
class PullResult:
    studies: tuple[PulledStudy, ...]

    @property
    def current(self) -> PulledStudy:
        return next(s for s in self.studies if not s.is_prior)

    @property
    def priors(self) -> tuple[PulledStudy, ...]:
        return tuple(s for s in self.studies if s.is_prior)


def search(config: PacsConfig, node: Node, query: StudyQuery, prefer_web: bool = False) -> list[StudyHit]:
    if node.protocol(prefer_web) is Protocol.DICOMWEB:
        return web.find(node, config.local, query)
    return dimse.find(node, config.local, query)


def find_priors(config: PacsConfig, node: Node, study: StudyHit, years: int,
                prefer_web: bool = False) -> list[StudyHit]:
    """The patient's earlier studies with a CT series, within ``years`` before ``study``."""
    if years <= 0 or not study.patient_id:
        return []
    q = StudyQuery(patient_id=study.patient_id, study_date=priors_range(study.study_date, years))
    hits = search(config, node, q, prefer_web)
    return [h for h in hits if h.study_uid != study.study_uid
            and (any(s.modality == "CT" for s in h.series) or "CT" in h.modalities.split("\\"))]


class _Collector:
    """Writes every retrieved instance into the archive and remembers the series folders."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.folders: set[str] = set()
        self.count = 0
        self.failed = 0

    def dimse(self, event: Any) -> int:
        out = store_event(self.archive, event)
        if out.status == SUCCESS and out.path is not None:
            self.folders.add(str(out.path.parent))
            self.count += 1
        else:
            self.failed += 1
        return out.status

    def web(self, ds: Dataset) -> None:
        key = InstanceKey(str(ds.get("PatientID", "")), str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID),
                          str(ds.SOPInstanceUID))
        path = self.archive.write(key, web.encoded(ds))
        self.folders.add(str(path.parent))
        self.count += 1


def pull(config: PacsConfig, node: Node, study_uid: str, store: "Store", *, priors_years: int | None = None,
         prefer_web: bool = False, progress: Progress | None = None,
         cancelled: Callable[[], bool] | None = None, method: RetrieveMethod = RetrieveMethod.C_GET) -> PullResult:
    from viewer.pacs.intake import register_series

    hits = search(config, node, StudyQuery(study_uid=study_uid), prefer_web)
    hits = [h for h in hits if h.study_uid == study_uid]
    if not hits:
        raise RemoteFailure(f"study {study_uid}", f"was not found on {node.name}",
                            f"Check the UID with `nodulelens pacs find {node.name}`")
    years = config.local.priors_years if priors_years is None else priors_years
    plan = [(hits[0], False)] + [(p, True) for p in find_priors(config, node, hits[0], years, prefer_web)]
    total = max(1, sum(max(1, h.n_instances) for h, _ in plan))
    archive = Archive(config.local.archive, config.local.min_free_mb)
    archive.check_space()
    done_before = 0
    out: list[PulledStudy] = []
    for hit, is_prior in plan:
        label = f"{'prior' if is_prior else 'study'} {hit.study_date or hit.study_uid}"

        def sub(done: int, _total: int, _base: int = done_before, _label: str = label) -> None:
            if progress is not None:
                progress(min(1.0, (_base + done) / total), f"{_label}: {done} instance(s)")
        col = _Collector(archive)
        if node.protocol(prefer_web) is Protocol.DICOMWEB:
            web.retrieve_study(node, config.local, hit.study_uid, col.web, progress=sub, total=hit.n_instances,
                               cancelled=cancelled)
        else:
            fetch = dimse.move_study if method is RetrieveMethod.C_MOVE else dimse.get_study
            fetch(node, config.local, hit.study_uid, col.dimse, progress=sub, cancelled=cancelled)
        done_before += max(1, hit.n_instances)
        registered = [register_series(store, f, ReceivedSource.PULL, node.name) for f in sorted(col.folders)]
        out.append(PulledStudy(hit, is_prior, col.count, tuple(sorted(col.folders)),
                               tuple(u for u in registered if u)))
    if progress is not None:
        progress(1.0, "done")
    return PullResult(tuple(out))


def series_folder(result: PullResult) -> Path | None:
    """The first registered CT series folder of the current study (what the viewer opens)."""
    cur = result.current
    return Path(cur.series_folders[0]) if cur.series_folders else None
