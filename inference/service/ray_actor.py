"""One member of a Ray actor pool that screens scans: the model is loaded once per actor.

The driver (:mod:`viewer.scale`, torch-free) wraps :class:`ScanScreener` with ``ray.remote`` and
calls :meth:`ScanScreener.screen` with the path of one series. The actor runs the same pipeline as
the local inference worker (:class:`inference.service.worker.Runtime`: read → detect → measure →
saliency by the card's method, recorded in each map's file), so a scan gives the same findings on
Ray as in ``nodulelens screen`` without it.

This module is imported by the driver to name the class, so it imports neither torch nor ray at
module level: the worker pipeline (and torch) is loaded inside the actor process, by name.

Results travel back through Ray's object store, not through a shared folder: the findings are a
few kilobytes and each saliency map a compressed ``.npz`` of some kilobytes, so the driver (the
only writer of the review store) receives everything and writes the maps next to the store. Only
the scans must be readable from every node (the same path on a shared file system or archive).

A scan that cannot be read or analysed is not an exception of the actor: :meth:`screen` returns a
:class:`ScanResult` with the typed error's name and message, so that the driver can tell a bad
scan (recorded as failed, not retried) from a worker that died (retried on another worker).
"""

from __future__ import annotations

import importlib
import os
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.domain.finding import ModelInfo
from inference.service.protocol import DetectReply, DetectRequest, ScanPath


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """Who a pool member is: its process, node and device, and the model it loaded."""

    pid: int
    node: str
    device: str
    model: ModelInfo
    threshold: float
    load_seconds: float


@dataclass(frozen=True, slots=True)
class ScanResult:
    """The answer for one series: ``reply`` when it was screened, else ``error_type``/``error``.

    ``saliency`` holds the ``.npz`` bytes of each explained finding, by finding id.
    ``seconds`` is the wall time in the actor; ``device`` and ``node`` where it ran.
    """

    series_uid: str
    pid: int
    node: str
    device: str
    seconds: float
    reply: DetectReply | None = None
    saliency: tuple[tuple[str, bytes], ...] = ()
    error_type: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.reply is not None


def _node_address() -> str:
    try:
        return str(importlib.import_module("ray.util").get_node_ip_address())
    except Exception:  # outside a Ray worker (a test, a plain process): the host name will do
        return socket.gethostname()


class ScanScreener:
    """Loads the model once (in ``__init__``), then screens one series per :meth:`screen` call."""

    def __init__(self, model: str | None, device: str = "auto", torch_threads: int | None = None) -> None:
        if torch_threads:
            importlib.import_module("torch").set_num_threads(int(torch_threads))
        worker = importlib.import_module("inference.service.worker")
        self._worker = worker
        self.runtime = worker.Runtime(model, device)
        self.device = self._device_label(self.runtime.device)
        self.node = _node_address()

    @staticmethod
    def _device_label(device: str) -> str:
        """``cpu``, or ``cuda:N (GPU name)`` for the GPU Ray gave this actor."""
        if not device.startswith("cuda"):
            return device
        torch = importlib.import_module("torch")
        index = torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"

    def info(self) -> WorkerInfo:
        d = self.runtime.detector
        return WorkerInfo(os.getpid(), self.node, self.device, d.model_info, float(d.threshold),
                          float(self.runtime.load_seconds))

    def screen(self, folder: str, series_uid: str | None, saliency: bool = True,
               saliency_top: int | None = 10) -> ScanResult:
        t0 = time.perf_counter()
        uid = series_uid or ""
        with tempfile.TemporaryDirectory(prefix="nodulelens-saliency-") as tmp:
            request = DetectRequest(0, ScanPath(folder, series_uid), analyze=True, saliency=saliency,
                                    saliency_dir=tmp if saliency else None, saliency_top=saliency_top)
            try:
                reply = self.runtime.handle(request, _no_progress)
            except Exception as exc:  # the scan's fault (or out of memory): reported, the actor stays up
                self._recover(exc)
                return ScanResult(uid, os.getpid(), self.node, self.device, time.perf_counter() - t0,
                                  error_type=type(exc).__name__, error=str(exc) or type(exc).__name__)
            maps = tuple((fid, Path(path).read_bytes()) for fid, path in reply.saliency_files)
        return ScanResult(uid, os.getpid(), self.node, self.device, time.perf_counter() - t0,
                          reply=reply, saliency=maps)

    def _recover(self, exc: BaseException) -> None:
        """After running out of GPU memory, give the cached blocks back before the next scan."""
        if self._worker._is_out_of_memory(exc) and self.device.startswith("cuda"):
            importlib.import_module("torch").cuda.empty_cache()


def _no_progress(_fraction: float, _message: str = "") -> Any:
    return None
