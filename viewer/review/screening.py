"""Batch screening: every CT series under a folder → detection + analysis → the store. Qt-free.

:func:`plan` walks the tree, registers each CT series and sets aside those already screened
(unless ``force``); :func:`screen_jobs` hands the rest one by one to a ``detect`` function (the CLI
passes one that calls :class:`inference.service.client.InferenceClient`, so torch stays in the
worker process); :func:`screen_folder` does both. :func:`screen_one` screens ONE series into the
store (a received PACS series, a single folder). :func:`record_detection` / :func:`record_failure`
store a result however it was computed (the Ray driver in :mod:`viewer.scale` uses them too), and
flag a study when its most suspicious finding passes the model's operating point or has Lung-RADS
3 or higher. A series that fails is recorded with its error and skipped; a store that cannot be
written stops the run (nothing is lost). Every run keeps its progress figures in the store
(:mod:`viewer.review.screen_runs`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from inference.domain.finding import Finding, ModelInfo
from inference.domain.nodule import LungRads
from inference.domain.progress import Progress
from viewer.review.errors import ScreeningError, StoreWriteError
from viewer.review.screen_runs import Engine, RunFigures, RunState, RunTracker, ScanPlacement
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
    placement: ScanPlacement | None = None  # the device (and node) it ran on, and how long it took
    warnings: tuple[str, ...] = ()


class ScreenState(StrEnum):
    SCREENED = "screened"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Outcome:
    series_uid: str
    folder: str
    state: ScreenState
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

    def count(self, state: ScreenState | str) -> int:
        return sum(o.state == state for o in self.outcomes)

    @property
    def flagged(self) -> int:
        return sum(o.flagged for o in self.outcomes)

    def line(self) -> str:
        return (f"{self.scans} scan(s): {self.count(ScreenState.SCREENED)} screened, "
                f"{self.count(ScreenState.SKIPPED)} already screened (skipped), {self.flagged} flagged, "
                f"{self.count(ScreenState.FAILED)} failed")


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


def record_detection(store: Store, series_uid: str, detection: Detection,
                     actor: str) -> tuple[bool, LungRads | None]:
    """Store one series' detection (findings, model, saliency files, the screening summary) the
    same way for the batch and the GUI; returns (flagged, highest Lung-RADS)."""
    # the worklist's summary is of the findings presented at the operating point, not of the
    # candidates a detection keeps below it for a reader who lowers the point
    presented = [f for f in detection.findings if f.score >= detection.threshold]
    flagged, rads, risk = is_flagged(presented, detection.threshold)
    store.record_screening(series_uid, list(detection.findings), detection.model, flagged=flagged,
                           highest_lung_rads=rads, highest_risk=risk,
                           saliency_paths=dict(detection.saliency_files), actor=actor,
                           threshold=detection.threshold)
    return flagged, rads


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
Log = Callable[[str], None]
OnResult = Callable[[Outcome, RunFigures], None]


@dataclass(frozen=True, slots=True)
class Plan:
    """What a run has to do: ``jobs`` to screen; ``skipped`` outcomes of those already stored."""

    root: str
    jobs: tuple[SeriesJob, ...]
    skipped: tuple[Outcome, ...]
    notes: tuple[str, ...] = ()


def _quiet(_line: str) -> None:
    pass


def _no_progress(_fraction: float, _message: str = "") -> None:
    pass


def plan(root: str | Path, store: Store, *, force: bool = False, log: Log | None = None,
         actor: str = "screening") -> Plan:
    """Find and register every CT series under ``root``; set aside those already screened (all of
    them unless ``force``; reviewed ones always)."""
    jobs, notes = find_series(root)
    say = log or _quiet
    for n in notes:
        say(n)
    todo: list[SeriesJob] = []
    skipped: list[Outcome] = []
    for job in jobs:
        if job.study_uid:
            store.add_series(job.study_uid, job.series_uid, job.folder, actor=actor,
                             patient_id=job.patient_id, description=job.description,
                             n_slices=job.n_slices)
        if store.is_screened(job.series_uid) and (not force or store.decisions(job.series_uid)):
            row = store.series_row(job.series_uid)
            skipped.append(Outcome(job.series_uid, job.folder, ScreenState.SKIPPED, bool(row["flagged"]),
                                   row["n_findings"]))
            say(f"{job.folder}: already reviewed; not screened again" if force else
                f"{job.folder}: already screened, skipped (use --force to screen again)")
            continue
        todo.append(job)
    return Plan(str(Path(root).resolve()), tuple(todo), tuple(skipped), tuple(notes))


def screen_folder(root: str | Path, store: Store, detect: Detect, *, force: bool = False,
                  progress: Progress | None = None, log: Log | None = None,
                  actor: str = "screening", on_result: OnResult | None = None) -> Summary:
    """Screen every CT series under ``root`` one after another in this process (see :func:`plan`)."""
    return screen_jobs(plan(root, store, force=force, log=log, actor=actor), store, detect,
                       progress=progress, log=log, actor=actor, on_result=on_result)


def screen_jobs(p: Plan, store: Store, detect: Detect, *, progress: Progress | None = None,
                log: Log | None = None, actor: str = "screening",
                on_result: OnResult | None = None) -> Summary:
    """Screen the planned series one after another; the run's figures go to the store."""
    run = RunTracker.start(store, p.root, Engine.SINGLE, 1, len(p.jobs), len(p.skipped))
    outcomes: list[Outcome] = list(p.skipped)
    n = len(p.jobs)
    state = RunState.INTERRUPTED
    try:
        for i, job in enumerate(p.jobs):
            def sub(fraction: float, message: str = "", _i: int = i) -> None:
                if progress is not None:
                    progress((_i + min(1.0, max(0.0, fraction))) / n, f"{_i + 1}/{n} {message}")
            outcome = screen_one(job, store, detect, progress=sub, log=log, actor=actor, run=run)
            outcomes.append(outcome)
            if on_result is not None:
                on_result(outcome, run.figures())
        link_priors(store, outcomes, log or _quiet, actor)
        state = RunState.FINISHED
    finally:
        run.finish(state)
    if progress is not None:
        progress(1.0, "done")
    return Summary(tuple(outcomes), p.notes)


def link_priors(store: Store, outcomes: list[Outcome], say: Log, actor: str) -> None:
    """Follow-up: compare each exam screened in this run with the patient's prior in the store, once
    the whole run is stored (a prior screened in the same run counts); a failed comparison is logged
    and the exam stays a baseline read."""
    from viewer.review.comparisons import link_screened

    link_screened(store, [o.series_uid for o in outcomes if o.state == ScreenState.SCREENED], say, actor)


def screen_one(job: SeriesJob, store: Store, detect: Detect, *, progress: Progress | None = None,
               log: Log | None = None, actor: str = "screening", run: RunTracker | None = None) -> Outcome:
    """Detect in ONE series and store the result (or the failure, with its typed error)."""
    say = log or _quiet
    t0 = time.perf_counter()
    try:
        d = detect(job, progress or _no_progress)
    except StoreWriteError:
        raise
    except Exception as exc:  # a bad series must not stop the batch: record it and go on
        return record_failure(job, store, f"{type(exc).__name__}: {exc}", actor=actor, run=run, log=say,
                              placement=ScanPlacement("", "", time.perf_counter() - t0))
    if d.placement is None or d.placement.seconds is None:
        where = d.placement or ScanPlacement("")
        d = _with_placement(d, ScanPlacement(where.device, where.node, time.perf_counter() - t0))
    return record_outcome(job, store, d, actor=actor, run=run, log=say)


def _with_placement(d: Detection, where: ScanPlacement) -> Detection:
    from dataclasses import replace
    return replace(d, placement=where)


def record_outcome(job: SeriesJob, store: Store, d: Detection, *, actor: str = "screening",
                   run: RunTracker | None = None, log: Log | None = None) -> Outcome:
    """Store one series' findings, its flag and where it ran; advance the run's figures."""
    say = log or _quiet
    for w in d.warnings:
        say(f"{job.folder}: note: {w}")
    if not job.study_uid and d.study_uid:
        store.add_series(d.study_uid, job.series_uid, job.folder, actor=actor,
                         description=job.description, n_slices=job.n_slices)
    if run is not None and d.placement is not None:
        run.stamp(job.series_uid, d.placement)
    flagged, rads = record_detection(store, job.series_uid, d, actor)
    if run is not None:
        run.advance(ok=True)
    say(f"{job.folder}: {len(d.findings)} finding(s){', FLAGGED' if flagged else ''}"
        f"{f', Lung-RADS {rads.value}' if rads else ''}")
    return Outcome(job.series_uid, job.folder, ScreenState.SCREENED, flagged, len(d.findings))


def record_failure(job: SeriesJob, store: Store, error: str, *, actor: str = "screening",
                   run: RunTracker | None = None, log: Log | None = None,
                   placement: ScanPlacement | None = None) -> Outcome:
    """Record that one series could not be screened (``error`` names the typed error); the run goes on."""
    if job.study_uid:
        if run is not None and placement is not None:
            run.stamp(job.series_uid, placement)
        store.record_screen_failure(job.series_uid, error, actor)
    if run is not None:
        run.advance(ok=False)
    (log or _quiet)(f"{job.folder}: FAILED, skipped: {error}")
    return Outcome(job.series_uid, job.folder, ScreenState.FAILED, error=error)
