"""Batch screening: every CT series under a folder → detection + analysis → the store. Qt-free.

:func:`plan` walks the tree, registers each CT series and sets aside those already screened
(unless ``force``); :func:`screen_jobs` hands the rest one by one to a ``detect`` function (the CLI
passes one that calls :class:`inference.service.client.InferenceClient`, so torch stays in the
worker process); :func:`screen_folder` does both. :func:`screen_one` screens ONE series into the
store (a received PACS series, a single folder). :func:`record_detection` / :func:`record_failure`
store a result however it was computed (the Ray driver in :mod:`viewer.scale` uses them too), and
flag a study when its most suspicious finding passes the model's operating point or has Lung-RADS
3 or higher. A series that fails is recorded with its error and skipped — also one next to a
damaged file (:mod:`viewer.review.series_finder`): one bad file never stops the batch; a store that
cannot be written stops the run (nothing is lost). The loader's warnings about a scan are stored with
its series. Concurrent screeners of one store share the work through per-series leases
(:mod:`viewer.review.leases`): no series is inferred twice. Every run keeps its progress figures in
the store (:mod:`viewer.review.screen_runs`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from inference.domain.finding import Finding, ModelInfo
from inference.domain.nodule import LungRads
from inference.domain.progress import Progress
from viewer.review import leases
from viewer.review.errors import StoreWriteError
from viewer.review.screen_runs import Engine, RunFigures, RunState, RunTracker, ScanPlacement
from viewer.review.series_finder import SeriesJob, find_series
from viewer.review.store import Guard, Store

if TYPE_CHECKING:
    from inference.service.protocol import DetectReply

__all__ = ["Detection", "Outcome", "Plan", "ScreenState", "SeriesJob", "Summary", "find_series", "plan",
           "record_detection", "record_failure", "record_outcome", "screen_folder", "screen_jobs", "screen_one"]

#: Lung-RADS category from which a study is flagged whatever the detector's score
FLAG_LUNG_RADS = LungRads.CAT_3


@dataclass(frozen=True, slots=True)
class Detection:
    """What a ``detect`` function returns for one series."""

    findings: tuple[Finding, ...]
    model: ModelInfo
    threshold: float
    saliency_files: dict[str, str] = field(default_factory=dict)
    study_uid: str = ""
    placement: ScanPlacement | None = None  # the device (and node) it ran on, and how long it took
    warnings: tuple[str, ...] = ()  # about the scan (the loader's) and the result (the worker's): stored


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


def detection_warnings(reply: DetectReply) -> tuple[str, ...]:
    """Every warning of a worker's reply: the loader's about the scan (``reply.info.warnings``:
    repairs, clipped values, ...) first, then the worker's own (a finding not measured, no maps)."""
    return tuple(dict.fromkeys((*reply.info.warnings, *reply.warnings)))


def record_detection(store: Store, series_uid: str, detection: Detection, actor: str,
                     guard: Guard | None = None) -> tuple[bool, LungRads | None]:
    """Store one series' detection (findings, model, saliency files, the screening summary, the
    warnings) the same way for the batch and the GUI; returns (flagged, highest Lung-RADS).
    ``guard`` refuses the write inside its transaction (a screener that lost the series' lease)."""
    # the worklist's summary is of the findings presented at the operating point, not of the
    # candidates a detection keeps below it for a reader who lowers the point
    presented = [f for f in detection.findings if f.score >= detection.threshold]
    flagged, rads, risk = is_flagged(presented, detection.threshold)
    store.record_screening(series_uid, list(detection.findings), detection.model, flagged=flagged,
                           highest_lung_rads=rads, highest_risk=risk,
                           saliency_paths=dict(detection.saliency_files), actor=actor,
                           threshold=detection.threshold, warnings=detection.warnings, guard=guard)
    return flagged, rads


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
        todo.append(replace(job, screened_at=leases.screened_at(store, job.series_uid)))
    return Plan(str(Path(root).resolve()), tuple(todo), tuple(skipped), tuple(notes))


def screen_folder(root: str | Path, store: Store, detect: Detect, *, force: bool = False,
                  progress: Progress | None = None, log: Log | None = None,
                  actor: str = "screening", on_result: OnResult | None = None,
                  lease_s: float = leases.DEFAULT_LEASE_S) -> Summary:
    """Screen every CT series under ``root`` one after another in this process (see :func:`plan`)."""
    return screen_jobs(plan(root, store, force=force, log=log, actor=actor), store, detect,
                       progress=progress, log=log, actor=actor, on_result=on_result, lease_s=lease_s)


def screen_jobs(p: Plan, store: Store, detect: Detect, *, progress: Progress | None = None,
                log: Log | None = None, actor: str = "screening",
                on_result: OnResult | None = None, lease_s: float = leases.DEFAULT_LEASE_S) -> Summary:
    """Screen the planned series one after another; the run's figures go to the store. Each series
    is screened under its lease (:mod:`viewer.review.leases`): one that another screener holds comes
    last, and one that another screener stored meanwhile is not screened again."""
    run = RunTracker.start(store, p.root, Engine.SINGLE, 1, len(p.jobs), len(p.skipped))
    holder = leases.holder_id(run.run_id)
    outcomes: list[Outcome] = list(p.skipped)
    n = len(p.jobs)
    state = RunState.INTERRUPTED
    try:
        with leases.Renewer(store, holder, lease_s) as renewer:
            turns = leases.claim_in_turn(store, p.jobs, holder, duration_s=lease_s, actor=actor,
                                         say=log or _quiet)
            for i, (job, claim) in enumerate(turns):
                def sub(fraction: float, message: str = "", _i: int = i) -> None:
                    if progress is not None:
                        progress((_i + min(1.0, max(0.0, fraction))) / n, f"{_i + 1}/{n} {message}")
                if claim is leases.Claim.DONE:
                    outcome = screened_elsewhere(job, store, run, log)
                else:
                    renewer.hold(job.series_uid)
                    try:
                        outcome = screen_one(job, store, detect, progress=sub, log=log, actor=actor, run=run,
                                             holder=holder)
                    finally:
                        renewer.drop(job.series_uid)
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


def screened_elsewhere(job: SeriesJob, store: Store, run: RunTracker | None, log: Log | None) -> Outcome:
    """The outcome of a series another screener stored while this run waited: its stored state."""
    row = store.series_row(job.series_uid)
    if run is not None:
        run.elsewhere()
    if row["screen_state"] == "failed":
        (log or _quiet)(f"{job.folder}: failed in another screening run: {row['screen_error']}")
        return Outcome(job.series_uid, job.folder, ScreenState.FAILED, error=row["screen_error"])
    (log or _quiet)(f"{job.folder}: screened by another screening run meanwhile, skipped")
    return Outcome(job.series_uid, job.folder, ScreenState.SKIPPED, bool(row["flagged"]), row["n_findings"])


def link_priors(store: Store, outcomes: list[Outcome], say: Log, actor: str) -> None:
    """Follow-up: compare each exam screened in this run with the patient's prior in the store, once
    the whole run is stored (a prior screened in the same run counts); a failed comparison is logged
    and the exam stays a baseline read."""
    from viewer.review.comparisons import link_screened

    link_screened(store, [o.series_uid for o in outcomes if o.state == ScreenState.SCREENED], say, actor)


def screen_one(job: SeriesJob, store: Store, detect: Detect, *, progress: Progress | None = None,
               log: Log | None = None, actor: str = "screening", run: RunTracker | None = None,
               holder: str | None = None) -> Outcome:
    """Detect in ONE series and store the result (or the failure, with its typed error); a series
    whose ``error`` is known already is recorded failed without running ``detect``. With a lease
    ``holder``, the result is stored only while it holds the series' lease."""
    say = log or _quiet
    if job.error:
        return record_failure(job, store, job.error, actor=actor, run=run, log=say, holder=holder)
    t0 = time.perf_counter()
    try:
        d = detect(job, progress or _no_progress)
    except StoreWriteError:
        raise
    except Exception as exc:  # a bad series must not stop the batch: record it and go on
        return record_failure(job, store, f"{type(exc).__name__}: {exc}", actor=actor, run=run, log=say,
                              placement=ScanPlacement("", "", time.perf_counter() - t0), holder=holder)
    if d.placement is None or d.placement.seconds is None:
        where = d.placement or ScanPlacement("")
        d = replace(d, placement=ScanPlacement(where.device, where.node, time.perf_counter() - t0))
    return record_outcome(job, store, d, actor=actor, run=run, log=say, holder=holder)


def _guard(job: SeriesJob, holder: str | None) -> Guard | None:
    return leases.guard(job.series_uid, holder) if holder and job.series_uid else None


def record_outcome(job: SeriesJob, store: Store, d: Detection, *, actor: str = "screening",
                   run: RunTracker | None = None, log: Log | None = None, holder: str | None = None) -> Outcome:
    """Store one series' findings, its flag, its warnings and where it ran; advance the run's
    figures. With ``holder``: stored only while it holds the series' lease (else SKIPPED)."""
    say = log or _quiet
    for w in d.warnings:
        say(f"{job.folder}: WARNING: {w}")
    if not job.study_uid and d.study_uid:
        store.add_series(d.study_uid, job.series_uid, job.folder, actor=actor,
                         description=job.description, n_slices=job.n_slices)
    if run is not None and d.placement is not None:
        run.stamp(job.series_uid, d.placement)
    try:
        flagged, rads = record_detection(store, job.series_uid, d, actor, guard=_guard(job, holder))
    except leases.LeaseLost as exc:
        return _lost(job, run, say, exc)
    if run is not None:
        run.advance(ok=True)
    say(f"{job.folder}: {len(d.findings)} finding(s){', FLAGGED' if flagged else ''}"
        f"{f', Lung-RADS {rads.value}' if rads else ''}"
        f"{f', {len(d.warnings)} warning(s)' if d.warnings else ''}")
    return Outcome(job.series_uid, job.folder, ScreenState.SCREENED, flagged, len(d.findings))


def record_failure(job: SeriesJob, store: Store, error: str, *, actor: str = "screening",
                   run: RunTracker | None = None, log: Log | None = None,
                   placement: ScanPlacement | None = None, holder: str | None = None) -> Outcome:
    """Record that one series could not be screened (``error`` names the typed error); the run goes on."""
    if job.study_uid:
        if run is not None and placement is not None:
            run.stamp(job.series_uid, placement)
        try:
            store.record_screen_failure(job.series_uid, error, actor, guard=_guard(job, holder))
        except leases.LeaseLost as exc:
            return _lost(job, run, log or _quiet, exc)
    if run is not None:
        run.advance(ok=False)
    (log or _quiet)(f"{job.folder}: FAILED, skipped: {error}")
    return Outcome(job.series_uid, job.folder, ScreenState.FAILED, error=error)


def _lost(job: SeriesJob, run: RunTracker | None, say: Log, exc: leases.LeaseLost) -> Outcome:
    """This screener lost the series' lease to another one, which stores the result: not stored here."""
    if run is not None:
        run.elsewhere()
    say(f"{job.folder}: not stored: {exc}")
    return Outcome(job.series_uid, job.folder, ScreenState.SKIPPED)
