"""Messages between the GUI/CLI process and the inference worker. Torch-free.

Every message is a small frozen dataclass sent over a ``multiprocessing`` pipe. The scan itself
never travels in a message: :class:`VolumeInSharedMemory` names a shared-memory block that holds
the voxels (the client creates and unlinks it) and :class:`ScanPath` names a file or folder the
worker reads itself. Saliency maps come back as compressed files (see
:mod:`inference.service.findings_file`), so a reply is a few kilobytes whatever the scan size.

Conversation::

    client                                   worker (spawned, torch lives here)
      ── start(model, device) ─────────────▶   loads the model once
      ◀──────────────────────────── Ready      (or ErrorReply, then exits)
      ── DetectRequest ────────────────────▶
      ◀───────────── ProgressMessage × n
      ◀──── DetectReply | CancelledReply | ErrorReply
      ── Shutdown ─────────────────────────▶   exits

Cancellation is a shared ``multiprocessing.Event`` (set by the client, polled by the worker
between and inside the stages), not a message, so that it reaches a worker that is busy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from inference.domain.finding import Finding, ModelInfo
from inference.imaging.volume import SeriesInfo

Affine = tuple[tuple[float, float, float, float], ...]


def affine_to_tuple(affine: np.ndarray) -> Affine:
    a = np.asarray(affine, dtype=np.float64)
    if a.shape != (4, 4):
        raise ValueError(f"affine must be 4x4, got shape {a.shape}")
    return tuple((float(r[0]), float(r[1]), float(r[2]), float(r[3])) for r in a)


@dataclass(frozen=True, slots=True)
class SharedArray:
    """A numpy array that lives in a ``multiprocessing.shared_memory`` block named ``name``."""

    name: str
    shape: tuple[int, ...]
    dtype: str

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("SharedArray needs the name of a shared-memory block")
        if any(int(s) < 1 for s in self.shape):
            raise ValueError(f"SharedArray: empty shape {self.shape}")
        object.__setattr__(self, "shape", tuple(int(s) for s in self.shape))
        np.dtype(self.dtype)  # raises TypeError for a dtype numpy does not know

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape)) * np.dtype(self.dtype).itemsize


@dataclass(frozen=True, slots=True)
class VolumeInSharedMemory:
    """A scan already in memory on the client side: voxels in shared memory, geometry inline."""

    voxels: SharedArray
    affine: Affine
    info: SeriesInfo = field(default_factory=SeriesInfo)


@dataclass(frozen=True, slots=True)
class ScanPath:
    """A scan on disk (DICOM folder/file, NIfTI, MetaImage) that the worker loads itself."""

    path: str
    series_uid: str | None = None

    def __post_init__(self) -> None:
        if not str(self.path):
            raise ValueError("ScanPath needs a path")


@dataclass(frozen=True, slots=True)
class DetectRequest:
    """Find nodules in one scan; optionally analyse each finding and explain it (saliency).

    ``saliency_dir``: where the worker writes one ``.npz`` per explained finding (the client
    provides a temporary folder when the caller gives none). ``saliency_top``: explain the
    highest-scoring findings only (``None`` = all). ``threshold``: the reader's operating point
    (``None`` = the model card's). ``floor``: also keep candidates scoring below the point down to
    this score (at most ``inference.service.operating.MAX_BELOW`` of them), so a reader can lower the
    point without running detection again; ``None`` = only findings at or above the point.
    """

    request_id: int
    scan: VolumeInSharedMemory | ScanPath
    analyze: bool = True
    saliency: bool = True
    saliency_dir: str | None = None
    saliency_top: int | None = 10
    threshold: float | None = None
    floor: float | None = None

    def __post_init__(self) -> None:
        if self.saliency and not self.saliency_dir:
            raise ValueError("DetectRequest: saliency requested without a saliency_dir")
        if self.saliency_top is not None and self.saliency_top < 0:
            raise ValueError("DetectRequest: saliency_top must be >= 0 or None")
        for name in ("threshold", "floor"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise ValueError(f"DetectRequest: {name} must be a score in 0..1, not {value}")


@dataclass(frozen=True, slots=True)
class Shutdown:
    """Ask the worker to exit after the current request."""


@dataclass(frozen=True, slots=True)
class Ready:
    """The worker has loaded its model and waits for requests."""

    pid: int
    model: ModelInfo
    device: str
    threshold: float
    load_seconds: float


@dataclass(frozen=True, slots=True)
class ProgressMessage:
    """Part of a request is done: ``fraction`` in 0..1 and a short line for a progress bar."""

    request_id: int
    fraction: float
    message: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "fraction", min(1.0, max(0.0, float(self.fraction))))


@dataclass(frozen=True, slots=True)
class DetectReply:
    """The result of a :class:`DetectRequest`.

    ``findings`` are at or above ``threshold`` (the operating point used: the request's, else the
    model card's), plus those down to the request's ``floor`` when it asked for them; highest score
    first, world mm, with
    ``analysis`` attached where the nodules package ran. ``saliency_files`` maps finding ids to
    the ``.npz`` files written for them. ``timings`` are wall-clock seconds per stage.
    """

    request_id: int
    findings: tuple[Finding, ...]
    info: SeriesInfo
    source: str
    model: ModelInfo
    threshold: float
    device: str
    saliency_files: tuple[tuple[str, str], ...] = ()
    timings: tuple[tuple[str, float], ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def saliency(self) -> dict[str, str]:
        return dict(self.saliency_files)

    @property
    def timing(self) -> dict[str, float]:
        return dict(self.timings)


@dataclass(frozen=True, slots=True)
class CancelledReply:
    """The worker stopped the request because the client set the cancel event."""

    request_id: int


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """An exception in the worker, described so that the client can raise a typed error.

    ``error_type`` is ``module:ClassName`` of the original exception. For the scan-reading
    errors (``inference.imaging.errors``) ``path``/``problem``/``fix`` carry its fields so that
    the client re-raises the same type. ``fatal``: the worker exits after sending this (it could
    not load its model, or it ran out of memory) and is started again on the next request.
    """

    request_id: int | None
    error_type: str
    message: str
    traceback: str = ""
    path: str | None = None
    problem: str | None = None
    fix: str | None = None
    fatal: bool = False
    out_of_memory: bool = False


WorkerMessage = Ready | ProgressMessage | DetectReply | CancelledReply | ErrorReply
ClientMessage = DetectRequest | Shutdown
