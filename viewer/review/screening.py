"""Batch screening: every CT series under a folder → detection + analysis → the store. Qt-free.

:func:`screen_folder` walks the tree, registers each CT series, skips those already screened
(unless ``force``), hands the rest one by one to a ``detect`` function (the CLI passes one that
calls :class:`inference.service.client.InferenceClient`, so torch stays in the worker process),
stores the findings and the screening summary, and flags a study when its most suspicious finding
passes the model's operating point or has Lung-RADS 3 or higher. A series that fails is recorded
with its error and skipped; a store that cannot be written stops the run (nothing is lost).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inference.domain.finding import Finding, ModelInfo
from inference.domain.nodule import LungRads
from inference.domain.progress import Progress
from viewer.review.errors import ScreeningError, StoreWriteError
from viewer.review.store import Store

#: Lung-RADS category from which a study is flagged whatever the detector's score
FLAG_LUNG_RADS = LungRads.CAT_3


@dataclass(frozen=True, slots=True)
class SeriesJob:
    """One CT series found under the screened folder."""

    series_uid: str
    study_uid: str
    folder: str
    description: str
    n_slices: int
    patient_id: str = ""


@dataclass(frozen=True, slots=True)
class Detection:
    """What a ``detect`` function returns for one series."""

    findings: tuple[Finding, ...]
    model: ModelInfo
    threshold: float
    saliency_files: dict[str, str] = field(default_factory=dict)
    study_uid: str = ""


@dataclass(frozen=True, slots=True)
class Outcome:
    series_uid: str
    folder: str
    state: str  # "screened", "skipped", "failed"
    flagged: bool = False
    n_findings: int = 0
    error: str = ""


@dataclass(frozen=True, slots=True)
class Summary:
    outcomes: tuple[Outcome, ...]
    not_ct: tuple[str, ...] = ()

    @property
    def scans(self) -> int:
        return len(self.outcomes)

    def count(self, state: str) -> int:
        return sum(o.state == state for o in self.outcomes)

    @property
    def flagged(self) -> int:
        return sum(o.flagged for o in self.outcomes)

    def line(self) -> str:
        return (f"{self.scans} scan(s): {self.count('screened')} screened, {self.count('skipped')} "
                f"already screened (skipped), {self.flagged} flagged, {self.count('failed')} failed")


def is_flagged(findings: tuple[Finding, ...] | list[Finding],
               threshold: float) -> tuple[bool, LungRads | None, float | None]:
    """(flagged, highest Lung-RADS, highest risk) for one series' findings."""
    analyses = [f.analysis for f in findings if f.analysis is not None]
    risks = [a.malignancy_risk for a in analyses if a.malignancy_risk is not None]
    top_rads = max((a.lung_rads for a in analyses), key=lambda c: c.rank, default=None)
    top_score = max((f.score for f in findings), default=None)
    flagged = (top_score is not None and top_score >= threshold) or \
        (top_rads is not None and top_rads.rank >= FLAG_LUNG_RADS.rank)
    return flagged, top_rads, max(risks, default=None)


def find_series(root: str | Path) -> tuple[list[SeriesJob], list[str]]:
    """The CT image series under ``root`` (and a note for each other series found)."""
    from inference.imaging import scan_series
    from inference.imaging.errors import ImagingError

    root = Path(root)
    if not root.exists():
        raise ScreeningError(root, "does not exist", "Give the folder that holds the scans")
    try:
        cands = scan_series(root)
    except ImagingError as exc:
        raise ScreeningError(root, f"holds no readable CT series ({exc.problem})", exc.fix) from exc
    jobs, notes = [], []
    for c in cands:
        if c.is_localizer:
            continue
        if c.modality != "CT":
            notes.append(f"{c.uid}: {c.modality or 'unknown'} series, not CT: not screened")
            continue
        folder = Path(c.files[0]).parent if len({str(Path(f).parent) for f in c.files}) == 1 else root
        study, patient = _study_of(c.files[0])
        jobs.append(SeriesJob(c.uid, study, str(folder.resolve()), c.description, c.slice_count, patient))
    jobs.sort(key=lambda j: j.folder)
    return jobs, notes


def _study_of(path: str) -> tuple[str, str]:
    import pydicom
    ds = pydicom.dcmread(path, stop_before_pixels=True,
                         specific_tags=["StudyInstanceUID", "PatientID"])
    return str(ds.get("StudyInstanceUID", "")), str(ds.get("PatientID", ""))


class Eta:
    """Remaining time from the work done so far (fractions of the whole run)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.t0 = clock()

    def remaining(self, fraction: float) -> float | None:
        if fraction <= 0.0:
            return None
        elapsed = self.clock() - self.t0
        return max(0.0, elapsed * (1.0 - fraction) / fraction)


Detect = Callable[[SeriesJob, Progress], Detection]


def screen_folder(root: str | Path, store: Store, detect: Detect, *, force: bool = False,
                  progress: Progress | None = None, log: Callable[[str], None] | None = None,
                  actor: str = "screening") -> Summary:
    jobs, notes = find_series(root)
    say = log or (lambda _m: None)
    for n in notes:
        say(n)
    outcomes: list[Outcome] = []
    for i, job in enumerate(jobs):
        def sub(fraction: float, message: str = "", _i: int = i) -> None:
            if progress is not None:
                progress((_i + min(1.0, max(0.0, fraction))) / len(jobs), f"{_i + 1}/{len(jobs)} {message}")
        if job.study_uid:
            store.add_series(job.study_uid, job.series_uid, job.folder, actor=actor,
                             patient_id=job.patient_id, description=job.description,
                             n_slices=job.n_slices)
        if not force and store.is_screened(job.series_uid):
            row = store.series_row(job.series_uid)
            outcomes.append(Outcome(job.series_uid, job.folder, "skipped", bool(row["flagged"]),
                                    row["n_findings"]))
            say(f"{job.folder}: already screened, skipped (use --force to screen again)")
            sub(1.0, "skipped")
            continue
        if force and store.is_screened(job.series_uid) and store.decisions(job.series_uid):
            row = store.series_row(job.series_uid)
            outcomes.append(Outcome(job.series_uid, job.folder, "skipped", bool(row["flagged"]),
                                    row["n_findings"]))
            say(f"{job.folder}: already reviewed; not screened again")
            continue
        outcomes.append(_screen_one(job, store, detect, sub, say, actor))
    if progress is not None:
        progress(1.0, "done")
    return Summary(tuple(outcomes), tuple(notes))


def _screen_one(job: SeriesJob, store: Store, detect: Detect, sub: Progress,
                say: Callable[[str], None], actor: str) -> Outcome:
    try:
        d = detect(job, sub)
    except StoreWriteError:
        raise
    except Exception as exc:  # a bad series must not stop the batch: record it and go on
        msg = f"{type(exc).__name__}: {exc}"
        if job.study_uid:
            store.record_screen_failure(job.series_uid, msg, actor)
        say(f"{job.folder}: FAILED, skipped: {msg}")
        return Outcome(job.series_uid, job.folder, "failed", error=msg)
    if not job.study_uid and d.study_uid:
        store.add_series(d.study_uid, job.series_uid, job.folder, actor=actor,
                         description=job.description, n_slices=job.n_slices)
    flagged, rads, risk = is_flagged(d.findings, d.threshold)
    model: Any = d.model
    store.record_screening(job.series_uid, list(d.findings), model, flagged=flagged,
                           highest_lung_rads=rads, highest_risk=risk,
                           saliency_paths=d.saliency_files, actor=actor)
    say(f"{job.folder}: {len(d.findings)} finding(s){', FLAGGED' if flagged else ''}"
        f"{f', Lung-RADS {rads.value}' if rads else ''}")
    return Outcome(job.series_uid, job.folder, "screened", flagged, len(d.findings))
