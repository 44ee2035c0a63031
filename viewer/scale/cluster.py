"""Connecting to Ray and sizing the screening pool. Torch-free; ``ray`` is imported only here, lazily.

``--ray auto`` joins the cluster this machine belongs to (started with ``ray start``, or named by
``RAY_ADDRESS``) and otherwise starts a private one-machine instance; ``--ray ADDRESS`` joins that
cluster (``HOST:PORT`` of its head node, or ``ray://HOST:10001`` through Ray Client). A process that
already called ``ray.init`` (a test, a notebook) keeps its connection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType

from viewer.review.errors import ScreeningError

INSTALL_FIX = "Install the cluster extra: pip install 'nodulelens[cluster]' (or screen without --ray)"
JOIN_FIX = ("Check that it runs (`ray status --address ADDRESS`) and give its head's HOST:PORT; a cluster "
            "started with `ray start` uses token authentication: set RAY_AUTH_MODE=token here too, with "
            "the cluster's token in ~/.ray/auth_token or RAY_AUTH_TOKEN")


class ClusterError(ScreeningError):
    """Ray is missing, the cluster cannot be reached, or no worker could start on it."""


class RayNotInstalled(ClusterError):
    """``--ray`` was asked for but the ``ray`` package is not installed."""


class WorkerKeptDying(ScreeningError):
    """A scan killed (or outlived) every worker it was given, up to the retry limit: marked failed."""


@dataclass(frozen=True, slots=True)
class RayOptions:
    """How to screen on Ray. ``workers``/``gpus_per_scan`` None = as many as the cluster holds /
    one GPU per worker when the cluster has GPUs. ``max_retries``: how many times a scan is given
    to a new worker after its worker died. ``scan_timeout_s``: a scan running longer is treated as
    a dead worker (its actor is killed). ``start_timeout_s``: how long a worker may take to load."""

    address: str = "auto"
    workers: int | None = None
    gpus_per_scan: float | None = None
    max_retries: int = 2
    scan_timeout_s: float = 1800.0
    start_timeout_s: float = 600.0
    model: str | None = None
    device: str = "auto"
    torch_threads: int | None = None
    saliency: bool = True

    def __post_init__(self) -> None:
        if self.workers is not None and self.workers < 1:
            raise ClusterError("--workers", f"must be at least 1 (got {self.workers})", "Give a positive count")
        if self.gpus_per_scan is not None and not 0.0 < self.gpus_per_scan <= 1.0:
            raise ClusterError("--gpus-per-scan", f"must be in (0, 1] (got {self.gpus_per_scan})",
                               "Give the share of one GPU a scan needs, e.g. 0.25 to pack four per GPU")
        if self.max_retries < 0:
            raise ClusterError("--max-retries", "must be 0 or more", "Give how often a scan may be retried")


@dataclass(frozen=True, slots=True)
class PoolShape:
    """The actor pool: ``workers`` actors of ``num_cpus`` CPUs and ``num_gpus`` (a GPU share) each."""

    workers: int
    num_cpus: float
    num_gpus: float
    cluster_cpus: float
    cluster_gpus: float

    @property
    def fit(self) -> int:
        """How many such workers the cluster holds at once."""
        if self.num_gpus:
            return int(math.floor(self.cluster_gpus / self.num_gpus + 1e-9))
        return int(self.cluster_cpus // self.num_cpus) if self.num_cpus else self.workers

    def line(self) -> str:
        each = f"{self.num_gpus:g} GPU" if self.num_gpus else f"{self.num_cpus:g} CPU"
        return (f"{self.workers} worker(s), {each} each, on a cluster of {self.cluster_cpus:g} CPU "
                f"and {self.cluster_gpus:g} GPU")


def import_ray() -> ModuleType:
    try:
        import ray
    except ImportError as exc:
        raise RayNotInstalled("--ray", "needs the 'ray' package, which is not installed", INSTALL_FIX) from exc
    return ray


def connect(address: str) -> ModuleType:
    """``ray`` connected to the cluster named by ``address`` (``auto`` or ``HOST:PORT``)."""
    ray = import_ray()
    if ray.is_initialized():
        return ray
    try:
        if address == "auto":
            try:
                ray.init(address="auto", log_to_driver=False)
            except ConnectionError as exc:
                if "could not find any running ray instance" not in str(exc).lower():
                    raise  # there is a cluster here, but it refused us: say so, don't start another
                ray.init(address="local", include_dashboard=False, log_to_driver=False)  # private, this run
        else:
            ray.init(address=address, log_to_driver=False)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise ClusterError(address, f"cannot join the Ray cluster ({exc})", JOIN_FIX) from exc
    return ray


def pool_shape(resources: dict[str, float], opts: RayOptions) -> PoolShape:
    """Size the pool from the cluster's resources: GPU shares where there are GPUs, CPUs otherwise."""
    cpus = float(resources.get("CPU", 0.0))
    gpus = float(resources.get("GPU", 0.0))
    threads = float(opts.torch_threads or 1)
    if gpus > 0 and (opts.device == "auto" or opts.device.startswith("cuda")):
        share = opts.gpus_per_scan or 1.0
        fit = int(math.floor(gpus / share + 1e-9))
        workers = opts.workers or max(1, fit)
        return PoolShape(workers, 1.0, share, cpus, gpus)
    if cpus < threads:
        raise ClusterError("the Ray cluster", f"has {cpus:g} CPU, fewer than one worker needs ({threads:g})",
                           "Add nodes, or lower --threads")
    workers = opts.workers or max(1, int(cpus // threads))
    return PoolShape(workers, threads, 0.0, cpus, gpus)
