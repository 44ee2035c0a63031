"""Screening runs in the store: progress figures per run and where each series was screened. Qt-free.

A run (one ``nodulelens screen`` invocation) is a row of ``screen_runs``: how many series it has
to screen, how many are done / failed / were already stored, the rate per minute and the ETA.
The figures are written as each result arrives, so the worklist (or another process reading the
store) sees the same numbers as the progress bar. Each screened or failed series is stamped with
the device and node it ran on, the seconds it took and the run that screened it.

The stamp is written just before the screening result, in its own transaction: a series whose
state is ``screened`` always has its device; a driver killed between the two leaves a stamp on a
series that is still unscreened, which the next run overwrites.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum

from viewer.review.store import Store


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


class Engine(StrEnum):
    """What screened the series: one local worker process, or a pool of Ray actors."""

    SINGLE = "single-process"
    RAY = "ray"


class RunState(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    INTERRUPTED = "interrupted"  # stopped by the user (Ctrl-C), or left running by a killed driver


@dataclass(frozen=True, slots=True)
class RunFigures:
    """The progress of a run: ``processed`` = done + failed in this run (skipped ones excluded)."""

    total: int
    done: int
    failed: int
    skipped: int
    elapsed_s: float
    per_minute: float | None
    eta_s: float | None

    @property
    def processed(self) -> int:
        return self.done + self.failed

    def line(self) -> str:
        rate = f"{self.per_minute:.1f}/min" if self.per_minute is not None else "-/min"
        eta = f"ETA {self.eta_s:.0f}s" if self.eta_s is not None else "ETA -"
        return f"{self.done} done, {self.failed} failed of {self.total}, {rate}, {eta}"


@dataclass(frozen=True, slots=True)
class ScanPlacement:
    """Where one series was screened."""

    device: str
    node: str = ""
    seconds: float | None = None


class RunTracker:
    """Keeps one ``screen_runs`` row up to date; the driver is its only writer."""

    def __init__(self, store: Store, run_id: int, total: int, skipped: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store, self.run_id, self.total, self.skipped = store, run_id, total, skipped
        self.done = self.failed = 0
        self._clock = clock
        self._t0 = clock()

    @classmethod
    def start(cls, store: Store, root: str, engine: Engine, workers: int, total: int, skipped: int = 0,
              clock: Callable[[], float] = time.monotonic) -> "RunTracker":
        """A new run row. Runs of the same folder still marked running were left by a killed driver."""
        now = _now()

        def tx(c: sqlite3.Connection) -> int:
            c.execute("UPDATE screen_runs SET state=?, finished_at=? WHERE root=? AND state=?",
                      (RunState.INTERRUPTED.value, now, root, RunState.RUNNING.value))
            cur = c.execute("INSERT INTO screen_runs (root, engine, workers, total, skipped, state, "
                            "started_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
                            (root, engine.value, workers, total, skipped, RunState.RUNNING.value, now, now))
            return int(cur.lastrowid or 0)
        return cls(store, store.transaction("starting the screening run", tx), total, skipped, clock)

    def figures(self) -> RunFigures:
        elapsed = max(0.0, self._clock() - self._t0)
        processed = self.done + self.failed
        rate = processed / (elapsed / 60.0) if processed and elapsed > 0 else None
        left = self.total - processed
        eta = left / rate * 60.0 if rate else None
        return RunFigures(self.total, self.done, self.failed, self.skipped, elapsed, rate,
                          0.0 if left == 0 else eta)

    def stamp(self, series_uid: str, placement: ScanPlacement) -> None:
        """Record where ``series_uid`` ran (call before storing its result)."""
        def tx(c: sqlite3.Connection) -> None:
            c.execute("UPDATE series SET screen_device=?, screen_node=?, screen_seconds=?, screen_run=? "
                      "WHERE series_uid=?", (placement.device, placement.node, placement.seconds,
                                             self.run_id, series_uid))
        self.store.transaction("recording where the series was screened", tx)

    def advance(self, ok: bool) -> RunFigures:
        """One more series done (``ok``) or failed; writes and returns the figures."""
        if ok:
            self.done += 1
        else:
            self.failed += 1
        return self._save(RunState.RUNNING)

    def elsewhere(self) -> RunFigures:
        """One series of this run was stored by another screener (viewer.review.leases): it counts
        as skipped, not as done here."""
        self.total = max(0, self.total - 1)
        self.skipped += 1
        return self._save(RunState.RUNNING)

    def finish(self, state: RunState = RunState.FINISHED) -> RunFigures:
        return self._save(state)

    def _save(self, state: RunState) -> RunFigures:
        f = self.figures()
        now = _now()

        def tx(c: sqlite3.Connection) -> None:
            c.execute("UPDATE screen_runs SET total=?, skipped=?, done=?, failed=?, per_minute=?, "
                      "eta_seconds=?, state=?, updated_at=?, finished_at=? WHERE run_id=?",
                      (f.total, f.skipped, f.done, f.failed, f.per_minute, f.eta_s, state.value, now,
                       None if state is RunState.RUNNING else now, self.run_id))
        self.store.transaction("recording the screening progress", tx)
        return f


@dataclass(frozen=True, slots=True)
class RunRow:
    """A stored run, as the worklist shows it."""

    run_id: int
    root: str
    engine: Engine
    workers: int
    total: int
    done: int
    failed: int
    skipped: int
    per_minute: float | None
    eta_seconds: float | None
    state: RunState
    started_at: str
    updated_at: str


def runs(store: Store, root: str | None = None) -> list[RunRow]:
    """The stored runs (of ``root`` when given), newest first."""
    sql = "SELECT * FROM screen_runs" + (" WHERE root=?" if root is not None else "") + " ORDER BY run_id DESC"
    return [RunRow(r["run_id"], r["root"], Engine(r["engine"]), r["workers"], r["total"], r["done"],
                   r["failed"], r["skipped"], r["per_minute"], r["eta_seconds"], RunState(r["state"]),
                   r["started_at"], r["updated_at"])
            for r in store.query(sql, () if root is None else (root,))]


def placement(store: Store, series_uid: str) -> ScanPlacement | None:
    """Where a series was last screened (None when it never was)."""
    rows = store.query("SELECT screen_device, screen_node, screen_seconds FROM series WHERE series_uid=?",
                       (series_uid,))
    if not rows or rows[0]["screen_device"] is None:
        return None
    r = rows[0]
    return ScanPlacement(r["screen_device"], r["screen_node"] or "", r["screen_seconds"])
