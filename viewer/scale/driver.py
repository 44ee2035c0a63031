"""The Ray driver of ``nodulelens screen --ray``: hands out scans, stores results as they arrive.

The driver is the only writer of the review store: workers return their findings (and the
saliency maps as bytes) through Ray's object store, and the driver stores each result in its own
transactions the moment it arrives — a killed driver loses nothing that was stored, and the next
run skips it (:func:`viewer.review.screening.plan`). Faults:

- a scan that cannot be read or analysed comes back as a failed :class:`ScanResult` with its typed
  error: recorded as failed, not retried, the rest go on;
- a worker that dies (or is killed after ``scan_timeout_s``) takes its scan with it: the scan goes
  back to the front of the queue for another worker and a fresh actor is started, at most
  ``max_retries`` times per scan; after that the scan is recorded failed (:class:`WorkerKeptDying`).

Every wait is bounded (``ray.wait`` with a timeout, a per-scan timeout, a start timeout), and the
number of dispatches is at most ``scans × (max_retries + 1)``.

The driver takes each series' lease in the store before it hands the scan out
(:mod:`viewer.review.leases`), renews it while the scan runs and releases it with the result, so a
``nodulelens screen`` run (or another driver) on the same store never infers the same series: a
series leased by another screener waits until that one stores it (then it is skipped) or dies (then
its lease expires and is taken over). A series next to a damaged file is recorded failed without
being handed out.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from inference.service.ray_actor import ScanResult, WorkerInfo
from viewer.review import leases
from viewer.review.saliency_dir import saliency_root as store_saliency_root
from viewer.review.screen_runs import Engine, RunState, RunTracker, ScanPlacement
from viewer.review.screening import (Detection, Log, OnResult, Outcome, Plan, SeriesJob, Summary,
                                     detection_warnings, record_outcome, record_failure, link_priors,
                                     screened_elsewhere)
from viewer.review.store import Store
from viewer.scale.cluster import ClusterError, RayOptions, WorkerKeptDying, connect, pool_shape
from viewer.scale.pool import Pool, Worker

#: called when a scan is handed to a worker (the progress display; tests use it to kill workers)
OnSubmit = Callable[[SeriesJob, WorkerInfo], None]


def screen_on_ray(p: Plan, store: Store, opts: RayOptions, *, log: Log | None = None,
                  on_result: OnResult | None = None, on_submit: OnSubmit | None = None,
                  actor: str = "screening", lease_s: float = leases.DEFAULT_LEASE_S) -> Summary:
    """Screen the planned series on the Ray cluster named by ``opts.address``, each under its lease
    (``lease_s``: how long a lease lasts unrenewed)."""
    say = log or (lambda _line: None)
    ray = connect(opts.address)
    shape = pool_shape(ray.cluster_resources(), opts)
    if shape.num_gpus == 0 and opts.gpus_per_scan:
        say("the Ray cluster has no GPU: screening on CPU")
    say(f"Ray: {shape.line()}")
    if shape.workers > shape.fit:
        say(f"only {shape.fit} worker(s) fit on the cluster at once; the others wait for resources")
    run = RunTracker.start(store, p.root, Engine.RAY, shape.workers, len(p.jobs), len(p.skipped))
    pool = Pool(ray, shape, opts, say)
    outcomes: list[Outcome] = list(p.skipped)
    state = RunState.INTERRUPTED
    try:
        if p.jobs:
            pool.start(min(shape.workers, len(p.jobs)))
            with leases.Renewer(store, leases.holder_id(run.run_id), lease_s) as renewer:
                sched = _Scheduler(ray, pool, store, run, opts, say, on_result, on_submit, actor, renewer)
                outcomes.extend(sched.run(p.jobs))
        link_priors(store, outcomes, say, actor)
        state = RunState.FINISHED
    finally:
        pool.close()
        run.finish(state)
    return Summary(tuple(outcomes), p.notes)


@dataclass(frozen=True, eq=False)
class _Flight:
    job: SeriesJob
    worker: Worker
    since: float


class _Scheduler:
    def __init__(self, ray: ModuleType, pool: Pool, store: Store, run: RunTracker, opts: RayOptions,
                 say: Log, on_result: OnResult | None, on_submit: OnSubmit | None, actor: str,
                 renewer: leases.Renewer) -> None:
        self.ray, self.pool, self.store, self.run_, self.opts = ray, pool, store, run, opts
        self.say, self.on_result, self.on_submit, self.actor = say, on_result, on_submit, actor
        self.renewer, self.holder = renewer, renewer.holder
        self.queue: deque[SeriesJob] = deque()
        self.held: list[SeriesJob] = []  # leased by another screener: asked again every poll
        self.told: set[str] = set()
        self.poll = min(2.0, max(0.1, renewer.duration_s / 10))
        self.next_poll = 0.0
        self.flights: dict[Any, _Flight] = {}
        self.idle: list[Worker] = list(pool.live)
        self.deaths: dict[str, int] = {}
        self.timed_out: set[Any] = set()
        self.outcomes: list[Outcome] = []
        self.saliency_root = store_saliency_root(store.path, create=bool(opts.saliency))  # <store file>.saliency

    def run(self, jobs: tuple[SeriesJob, ...]) -> list[Outcome]:
        self.queue.extend(jobs)
        while self.queue or self.flights or self.held:
            self._requeue_held()
            self._dispatch()
            if not self.flights and not self.pool.starting:
                if self.queue:
                    raise ClusterError("the Ray cluster", f"has no screening worker left; {len(self.queue)} "
                                       "scan(s) not screened", "Check the nodes, then run the same command "
                                       "again: what was stored is kept and skipped")
                if self.held:  # only series another screener is working on: wait for it
                    time.sleep(self.poll)
                continue
            done, _ = self.ray.wait(list(self.flights) + list(self.pool.starting), num_returns=1, timeout=1.0)
            for ref in done:
                if ref in self.pool.starting:
                    w = self.pool.adopt(ref)
                    if w is not None:
                        self.idle.append(w)
                else:
                    self._collect(ref)
            self._expire()
        return self.outcomes

    def _requeue_held(self) -> None:
        if self.held and time.monotonic() >= self.next_poll:
            self.queue.extend(self.held)
            self.held.clear()
            self.next_poll = time.monotonic() + self.poll

    def _claim(self, job: SeriesJob) -> bool:
        """Take the series' lease; False when another screener holds it (kept for later) or has
        stored it meanwhile (its stored outcome emitted), or when its error is known already."""
        claim, other = leases.acquire(self.store, job.series_uid, self.holder, seen=job.screened_at,
                                      duration_s=self.renewer.duration_s, actor=self.actor) \
            if job.series_uid else (leases.Claim.ACQUIRED, "")
        if claim is leases.Claim.HELD:
            if job.series_uid not in self.told:
                self.say(f"{job.folder}: being screened by {other}; waiting for its result")
                self.told.add(job.series_uid)
            self.held.append(job)
            return False
        if claim is leases.Claim.DONE:
            self._emit(screened_elsewhere(job, self.store, self.run_, self.say))
            return False
        self.renewer.hold(job.series_uid)
        if job.error:  # a damaged file next to it: failed without running the detector
            self._finish(job, record_failure(job, self.store, job.error, actor=self.actor, run=self.run_,
                                             log=self.say, holder=self.holder))
            return False
        return True

    def _finish(self, job: SeriesJob, outcome: Outcome) -> None:
        self.renewer.drop(job.series_uid)
        self._emit(outcome)

    def _dispatch(self) -> None:
        while self.idle and self.queue:
            job = self.queue.popleft()
            if not self._claim(job):
                continue
            worker = self.idle.pop(0)
            ref = worker.handle.screen.remote(job.folder, job.series_uid, self.opts.saliency)
            self.flights[ref] = _Flight(job, worker, time.monotonic())
            if self.on_submit is not None:
                self.on_submit(job, worker.info)

    def _expire(self) -> None:
        """Kill the worker of a scan that runs past scan_timeout_s (it comes back as a death)."""
        now = time.monotonic()
        for ref, f in self.flights.items():
            if ref not in self.timed_out and now - f.since > self.opts.scan_timeout_s:
                self.timed_out.add(ref)
                self.say(f"{f.job.folder}: still running after {self.opts.scan_timeout_s:g} s on "
                         f"{f.worker.line()}; stopping that worker")
                self.ray.kill(f.worker.handle)
        self.pool.expire()

    def _collect(self, ref: Any) -> None:
        f = self.flights.pop(ref)
        x = self.ray.exceptions
        try:
            res: ScanResult = self.ray.get(ref)
        except (x.RayActorError, x.WorkerCrashedError, x.OutOfMemoryError, x.NodeDiedError) as exc:
            cause = (f"ran longer than {self.opts.scan_timeout_s:g} s" if ref in self.timed_out
                     else "its worker ran out of memory" if isinstance(exc, x.OutOfMemoryError)
                     else "its worker process died")
            self.timed_out.discard(ref)
            self.pool.discard(f.worker)
            self.pool.spawn()
            self._died(f, cause)
            return
        except self.ray.exceptions.RayError as exc:  # the call itself failed (e.g. an unreadable reply)
            self.idle.append(f.worker)
            self._finish(f.job, record_failure(f.job, self.store, f"{type(exc).__name__}: {exc}",
                                               actor=self.actor, run=self.run_, log=self.say, holder=self.holder))
            return
        self.idle.append(f.worker)
        where = ScanPlacement(res.device, res.node, res.seconds)
        if res.reply is None:
            self._finish(f.job, record_failure(f.job, self.store, f"{res.error_type}: {res.error}",
                                               actor=self.actor, run=self.run_, log=self.say, placement=where,
                                               holder=self.holder))
            return
        reply = res.reply
        detection = Detection(reply.findings, reply.model, reply.threshold,
                              self._write_saliency(f.job.series_uid, res.saliency),
                              reply.info.study_instance_uid, where, detection_warnings(reply))
        self._finish(f.job, record_outcome(f.job, self.store, detection, actor=self.actor, run=self.run_,
                                           log=self.say, holder=self.holder))

    def _died(self, f: _Flight, cause: str) -> None:
        uid = f.job.series_uid
        n = self.deaths[uid] = self.deaths.get(uid, 0) + 1
        if n <= self.opts.max_retries:
            self.say(f"{f.job.folder}: {cause} ({f.worker.line()}); given to another worker "
                     f"(retry {n}/{self.opts.max_retries})")
            self.queue.appendleft(f.job)
            return
        err = WorkerKeptDying(f.job.folder, f"{cause} on {n} worker(s) in a row (last {f.worker.line()})",
                              "Not retried again in this run: check the scan (size, pixel data) and the "
                              "workers' memory, then run screen again to retry it")
        self._finish(f.job, record_failure(f.job, self.store, f"{type(err).__name__}: {err}", actor=self.actor,
                                           run=self.run_, log=self.say, holder=self.holder,
                                           placement=ScanPlacement(f.worker.info.device, f.worker.info.node,
                                                                   None)))

    def _write_saliency(self, series_uid: str, maps: tuple[tuple[str, bytes], ...]) -> dict[str, str]:
        """The maps a worker returned, written next to the store (as the single-process path does)."""
        if not maps:
            return {}
        out = self.saliency_root / series_uid
        out.mkdir(parents=True, exist_ok=True)
        paths = {}
        for fid, data in maps:
            final = out / f"{Path(fid).name}.npz"
            part = final.with_name(final.name + ".part")
            part.write_bytes(data)
            os.replace(part, final)
            paths[fid] = str(final)
        return paths

    def _emit(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        if self.on_result is not None:
            self.on_result(outcome, self.run_.figures())
