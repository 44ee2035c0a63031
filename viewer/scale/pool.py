"""The actor pool: one :class:`~inference.service.ray_actor.ScanScreener` per worker, model loaded once.

Actors are created with ``max_restarts=0``: when one dies (its process killed, out of memory, a
node lost) the driver decides what happens to its scan and asks for a fresh actor, which Ray
places wherever the resources are free. Starting actors are tracked by the object reference of
their ``info()`` call, so the driver waits on results and on new workers with one ``ray.wait``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from inference.service.ray_actor import ScanScreener, WorkerInfo
from viewer.scale.cluster import ClusterError, PoolShape, RayOptions


@dataclass(frozen=True, eq=False)
class Worker:
    """A started pool member: its Ray actor handle and what it reported when it came up."""

    handle: Any
    info: WorkerInfo

    def line(self) -> str:
        return f"pid {self.info.pid} on {self.info.node} ({self.info.device})"


@dataclass(frozen=True, eq=False)
class _Starting:
    handle: Any
    since: float


class Pool:
    def __init__(self, ray: ModuleType, shape: PoolShape, opts: RayOptions,
                 log: Callable[[str], None], clock: Callable[[], float] = time.monotonic) -> None:
        self.ray, self.shape, self.opts, self._log, self._clock = ray, shape, opts, log, clock
        threads = opts.torch_threads or (1 if shape.num_gpus else int(shape.num_cpus))
        self._actor = ray.remote(ScanScreener).options(
            num_cpus=shape.num_cpus, num_gpus=shape.num_gpus, max_restarts=0, max_concurrency=1)
        self._args = (opts.model, opts.device, threads)
        self.starting: dict[Any, _Starting] = {}
        self.live: list[Worker] = []
        self.start_errors: list[str] = []

    def spawn(self) -> None:
        """Ask Ray for one more worker (it comes up in the background; see :meth:`adopt`)."""
        handle = self._actor.remote(*self._args)
        self.starting[handle.info.remote()] = _Starting(handle, self._clock())

    def start(self, n: int) -> list[Worker]:
        """Start ``n`` workers and wait (at most start_timeout_s) until the first has loaded the model;
        the others go on starting in the background (:meth:`adopt`). None at all is a
        :class:`ClusterError`."""
        for _ in range(n):
            self.spawn()
        deadline = self._clock() + self.opts.start_timeout_s
        ready: list[Worker] = []
        while not ready and self.starting and self._clock() < deadline:
            done, _ = self.ray.wait(list(self.starting), num_returns=1,
                                    timeout=max(0.1, min(5.0, deadline - self._clock())))
            for ref in done:
                w = self.adopt(ref)
                if w is not None:
                    ready.append(w)
        if not ready:
            for ref in list(self.starting):
                self._give_up(ref, f"not started within {self.opts.start_timeout_s:g} s (cluster busy?)")
            why = self.start_errors[0] if self.start_errors else "no worker started"
            raise ClusterError("the Ray cluster", f"could not start a screening worker: {why}",
                               "Check the model (`nodulelens models list`), the nodes' resources and that "
                               "nodulelens is installed on every node")
        return ready

    def adopt(self, ref: Any) -> Worker | None:
        """The worker whose ``info()`` reference is ``ref``, now up; None if it failed to start."""
        starting = self.starting.pop(ref)
        try:
            info: WorkerInfo = self.ray.get(ref)
        except self.ray.exceptions.RayError as exc:
            msg = _first_line(exc)
            self.start_errors.append(msg)
            self._log(f"a screening worker failed to start: {msg}")
            self.ray.kill(starting.handle)
            return None
        w = Worker(starting.handle, info)
        self.live.append(w)
        self._log(f"worker up: {w.line()}, model {info.model.model_id} loaded in {info.load_seconds:.1f} s")
        return w

    def expire(self) -> None:
        """Give back workers that are still not up after start_timeout_s."""
        now = self._clock()
        for ref, s in list(self.starting.items()):
            if now - s.since > self.opts.start_timeout_s:
                self._give_up(ref, f"not started within {self.opts.start_timeout_s:g} s")

    def discard(self, w: Worker) -> None:
        """Forget a dead (or killed) worker."""
        if w in self.live:
            self.live.remove(w)
        self.ray.kill(w.handle)

    def close(self) -> None:
        for w in self.live:
            self.ray.kill(w.handle)
        for s in self.starting.values():
            self.ray.kill(s.handle)
        self.live.clear()
        self.starting.clear()

    def _give_up(self, ref: Any, why: str) -> None:
        s = self.starting.pop(ref)
        self.start_errors.append(why)
        self._log(f"a screening worker {why}; given back")
        self.ray.kill(s.handle)


def _first_line(exc: BaseException) -> str:
    """The useful line of a Ray error (its cause's message, not the whole remote traceback)."""
    cause = getattr(exc, "cause", None) or exc.__cause__
    text = str(cause) if cause is not None else str(exc)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:500] if lines else type(exc).__name__
