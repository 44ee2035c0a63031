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
from viewer.review.saliency_dir import saliency_root as store_saliency_root
from viewer.review.screen_runs import Engine, RunState, RunTracker, ScanPlacement
from viewer.review.screening import (Detection, Log, OnResult, Outcome, Plan, SeriesJob, Summary,
                                     record_outcome, record_failure, link_priors)
from viewer.review.store import Store
from viewer.scale.cluster import ClusterError, RayOptions, WorkerKeptDying, connect, pool_shape
from viewer.scale.pool import Pool, Worker

#: called when a scan is handed to a worker (the progress display; tests use it to kill workers)
OnSubmit = Callable[[SeriesJob, WorkerInfo], None]


def screen_on_ray(p: Plan, store: Store, opts: RayOptions, *, log: Log | None = None,
                  on_result: OnResult | None = None, on_submit: OnSubmit | None = None,
                  actor: str = "screening") -> Summary:
    """Screen the planned series on the Ray cluster named by ``opts.address``."""
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
            sched = _Scheduler(ray, pool, store, run, opts, say, on_result, on_submit, actor)
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
                 say: Log, on_result: OnResult | None, on_submit: OnSubmit | None, actor: str) -> None:
        self.ray, self.pool, self.store, self.run_, self.opts = ray, pool, store, run, opts
        self.say, self.on_result, self.on_submit, self.actor = say, on_result, on_submit, actor
        self.queue: deque[SeriesJob] = deque()
        self.flights: dict[Any, _Flight] = {}
        self.idle: list[Worker] = list(pool.live)
        self.deaths: dict[str, int] = {}
        self.timed_out: set[Any] = set()
        self.outcomes: list[Outcome] = []
        self.saliency_root = store_saliency_root(store.path, create=bool(opts.saliency))  # <store file>.saliency

    def run(self, jobs: tuple[SeriesJob, ...]) -> list[Outcome]:
        self.queue.extend(jobs)
        while self.queue or self.flights:
            self._dispatch()
            if not self.flights and not self.pool.starting:
                raise ClusterError("the Ray cluster", f"has no screening worker left; {len(self.queue)} "
                                   "scan(s) not screened", "Check the nodes, then run the same command "
                                   "again: what was stored is kept and skipped")
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

    def _dispatch(self) -> None:
        while self.idle and self.queue:
            worker, job = self.idle.pop(0), self.queue.popleft()
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
            self._emit(record_failure(f.job, self.store, f"{type(exc).__name__}: {exc}", actor=self.actor,
                                      run=self.run_, log=self.say))
            return
        self.idle.append(f.worker)
        where = ScanPlacement(res.device, res.node, res.seconds)
        if res.reply is None:
            self._emit(record_failure(f.job, self.store, f"{res.error_type}: {res.error}", actor=self.actor,
                                      run=self.run_, log=self.say, placement=where))
            return
        reply = res.reply
        detection = Detection(reply.findings, reply.model, reply.threshold,
                              self._write_saliency(f.job.series_uid, res.saliency),
                              reply.info.study_instance_uid, where, reply.warnings)
        self._emit(record_outcome(f.job, self.store, detection, actor=self.actor, run=self.run_,
                                    log=self.say))

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
        self._emit(record_failure(f.job, self.store, f"{type(err).__name__}: {err}", actor=self.actor,
                                  run=self.run_, log=self.say,
                                  placement=ScanPlacement(f.worker.info.device, f.worker.info.node, None)))

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
