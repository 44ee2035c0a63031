"""Starts and talks to the inference worker process. Torch-free (the GUI imports this).

    with InferenceClient(model=None, device="auto") as client:
        reply = client.detect(volume_or_path, progress=lambda f, msg: ..., saliency_dir="out/")

The worker is a ``spawn``-ed process that loads the model once and stays warm between requests.
A scan given as a :class:`~inference.imaging.Volume` travels through a shared-memory block (one
copy, no pickling of the voxels); a path is read by the worker itself. Progress streams back
through the pipe and is passed to ``progress(fraction, message)`` in the calling thread.
:meth:`InferenceClient.cancel` may be called from any thread. A worker that dies mid-request
raises :class:`~inference.service.errors.WorkerDied` and is started again on the next request.
"""

from __future__ import annotations

import importlib
import multiprocessing as mp
import os
import shutil
import tempfile
import threading
import time
from multiprocessing import shared_memory
from pathlib import Path
from typing import Any, Callable

import numpy as np

from inference.imaging.volume import Volume
from inference.service._bootstrap import run_worker
from inference.service.errors import (Cancelled, OutOfMemory, ScanTransferError, ServiceError,
                                      WorkerDied, WorkerFailed, WorkerStartFailed)
from inference.service.protocol import (CancelledReply, DetectReply, DetectRequest, ErrorReply,
                                        Progress, Ready, ScanPath, SharedArray, Shutdown,
                                        VolumeInSharedMemory, affine_to_tuple)

ProgressFn = Callable[[float, str], None]


def _rebuild_error(reply: ErrorReply, during: str) -> BaseException:
    """The typed error for an :class:`ErrorReply`: scan-reading and model errors keep their type."""
    module_name, _, cls_name = reply.error_type.partition(":")
    cls: Any = None
    if module_name.startswith("inference."):
        try:
            cls = getattr(importlib.import_module(module_name), cls_name, None)
        except ImportError:
            cls = None
    if isinstance(cls, type) and issubclass(cls, BaseException):
        imaging = importlib.import_module("inference.imaging.errors")
        if issubclass(cls, imaging.ImagingError) and reply.path is not None:
            return cls(reply.path, reply.problem or reply.message, reply.fix or "")
        try:
            registry = importlib.import_module("inference.detection.registry")
            if issubclass(cls, registry.ModelError):
                return cls(reply.message)
        except ImportError:
            pass
    if reply.out_of_memory:
        return OutOfMemory(f"the inference worker ran out of memory during {during} ({reply.message}); "
                           "it is restarted on the next request — try --device cpu or close other "
                           "programs", reply.error_type, reply.traceback)
    if reply.request_id is None:
        return WorkerStartFailed(f"the inference worker could not start: {reply.message} "
                                 f"({reply.error_type.split(':')[-1]})")
    return WorkerFailed(f"detection failed in the inference worker: {reply.message} "
                        f"({reply.error_type.split(':')[-1]})", reply.error_type, reply.traceback)


class InferenceClient:
    """One warm worker process; one request at a time (calls from several threads queue up)."""

    def __init__(self, model: str | None = None, device: str = "auto", *,
                 start_timeout: float = 300.0, cancel_grace: float = 20.0,
                 torch_threads: int | None = None) -> None:
        self.model = model
        self.device = device
        self.start_timeout = start_timeout
        self.cancel_grace = cancel_grace
        self.torch_threads = torch_threads
        self._ctx = mp.get_context("spawn")
        self._proc: Any = None
        self._conn: Any = None
        self._cancel_event = self._ctx.Event()
        self._ready: Ready | None = None
        self._lock = threading.Lock()
        self._cancel_requested = threading.Event()
        self._request_id = 0
        self._tmp: str | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    @property
    def ready(self) -> Ready | None:
        """What the running worker reported when it started (None before the first start)."""
        return self._ready

    @property
    def worker_pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.is_alive() else None

    def start(self) -> Ready:
        """Start the worker (if not running) and wait until its model is loaded."""
        with self._lock:
            return self._ensure_started()

    def _ensure_started(self) -> Ready:
        if self._proc is not None and self._proc.is_alive() and self._ready is not None:
            return self._ready
        self._discard_worker()
        if self.model is not None:  # a missing or broken model card fails here, before a spawn
            from inference.detection.registry import load_manifest
            from inference.service.installed import resolve_model

            load_manifest(resolve_model(self.model) or self.model)
        parent, child = self._ctx.Pipe(duplex=True)
        self._cancel_event.clear()
        proc = self._ctx.Process(target=run_worker, name="nodulelens-inference",
                                 args=(child, self._cancel_event, self.model, self.device,
                                       self.torch_threads), daemon=True)
        proc.start()
        child.close()  # so that a dead worker reads as EOF here
        self._proc, self._conn = proc, parent
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if parent.poll(0.2):
                try:
                    msg = parent.recv()
                except (EOFError, OSError):
                    break
                if isinstance(msg, Ready):
                    self._ready = msg
                    return msg
                if isinstance(msg, ErrorReply):
                    self._discard_worker()
                    raise _rebuild_error(msg, "start-up")
            elif not proc.is_alive():
                break
        code = proc.exitcode
        self._discard_worker()
        if code is None:
            raise WorkerStartFailed(f"the inference worker did not load its model within "
                                    f"{self.start_timeout:.0f} s; try again or use --device cpu")
        raise WorkerStartFailed(f"the inference worker exited with status {code} while starting; "
                                "run `nodulelens detect` in a terminal to see why")

    def _discard_worker(self, kill: bool = False) -> None:
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        self._ready = None
        if conn is not None:
            try:
                conn.close()
            except OSError:
                pass
        if proc is not None:
            if kill and proc.is_alive():
                proc.kill()
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)

    def close(self) -> None:
        """Stop the worker and remove temporary saliency files. The client may be started again."""
        with self._lock:
            if self._conn is not None and self._proc is not None and self._proc.is_alive():
                try:
                    self._conn.send(Shutdown())
                except (OSError, BrokenPipeError):
                    pass
                self._proc.join(timeout=10)
            self._discard_worker(kill=True)
            if self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)
                self._tmp = None

    def __enter__(self) -> "InferenceClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- requests ----------------------------------------------------------------------------------
    def cancel(self) -> None:
        """Cancel the running request (any thread). :meth:`detect` then raises ``Cancelled``;
        a worker that does not stop within ``cancel_grace`` seconds is killed and restarted."""
        self._cancel_requested.set()
        self._cancel_event.set()

    def detect(self, scan: Volume | str | os.PathLike, *, series_uid: str | None = None,
               analyze: bool = True, saliency: bool = True, saliency_dir: str | os.PathLike | None = None,
               saliency_top: int | None = 10, progress: ProgressFn | None = None,
               threshold: float | None = None, floor: float | None = None) -> DetectReply:
        """Run detection (and analysis, and saliency) on ``scan``; blocks until the reply."""
        with self._lock:
            self._cancel_requested.clear()
            self._ensure_started()
            if self._cancel_requested.is_set():
                raise Cancelled()
            self._request_id += 1
            rid = self._request_id
            if saliency and saliency_dir is None:
                if self._tmp is None:
                    self._tmp = tempfile.mkdtemp(prefix="nodulelens-saliency-")
                saliency_dir = os.path.join(self._tmp, f"request-{rid}")
            shm = None
            try:
                if isinstance(scan, Volume):
                    shm, ref = self._share(scan)
                else:
                    ref = ScanPath(str(Path(scan)), series_uid)
                request = DetectRequest(rid, ref, analyze=analyze, saliency=saliency,
                                        saliency_dir=None if saliency_dir is None else str(saliency_dir),
                                        saliency_top=saliency_top, threshold=threshold, floor=floor)
                self._cancel_event.clear()
                if self._cancel_requested.is_set():
                    raise Cancelled()
                try:
                    self._conn.send(request)
                except (BrokenPipeError, OSError):
                    code = self._proc.exitcode if self._proc is not None else None
                    self._discard_worker(kill=True)
                    raise WorkerDied(code, "sending the request") from None
                return self._wait(rid, progress)
            finally:
                if shm is not None:
                    shm.close()
                    shm.unlink()

    @staticmethod
    def _share(volume: Volume) -> tuple[shared_memory.SharedMemory, VolumeInSharedMemory]:
        vox = np.ascontiguousarray(volume.voxels)
        try:
            shm = shared_memory.SharedMemory(create=True, size=max(1, vox.nbytes))
        except OSError as exc:
            raise ScanTransferError(f"cannot hand a {vox.nbytes / 1e6:.0f} MB scan to the inference "
                                    f"worker through shared memory ({exc}); free memory or /dev/shm "
                                    "space and try again") from exc
        np.ndarray(vox.shape, vox.dtype, buffer=shm.buf)[...] = vox
        ref = VolumeInSharedMemory(SharedArray(shm.name, vox.shape, vox.dtype.str),
                                   affine_to_tuple(volume.affine), volume.info)
        return shm, ref

    def _wait(self, rid: int, progress: ProgressFn | None) -> DetectReply:
        cancel_at: float | None = None
        while True:
            if cancel_at is None and self._cancel_requested.is_set():
                cancel_at = time.monotonic()
            if cancel_at is not None and time.monotonic() - cancel_at >= self.cancel_grace:
                self._discard_worker(kill=True)
                raise Cancelled("detection cancelled by the user (the worker was stopped; it is "
                                "started again on the next request)")
            proc, conn = self._proc, self._conn
            try:
                has_data = conn.poll(0.1)
                msg = conn.recv() if has_data else None
            except (EOFError, OSError):
                msg, has_data = None, False
                proc.join(timeout=2)
                code = proc.exitcode
                self._discard_worker(kill=True)
                if cancel_at is not None:
                    raise Cancelled() from None
                raise WorkerDied(code, "detection") from None
            if msg is None:
                if not proc.is_alive() and not conn.poll(0):
                    code = proc.exitcode
                    self._discard_worker()
                    if cancel_at is not None:
                        raise Cancelled()
                    raise WorkerDied(code, "detection")
                continue
            if getattr(msg, "request_id", rid) != rid:
                continue  # a late message of an earlier (cancelled) request
            if isinstance(msg, Progress):
                if progress is not None and cancel_at is None:
                    progress(msg.fraction, msg.message)
            elif isinstance(msg, DetectReply):
                return msg
            elif isinstance(msg, CancelledReply):
                raise Cancelled()
            elif isinstance(msg, ErrorReply):
                if msg.fatal:
                    self._discard_worker(kill=True)
                raise _rebuild_error(msg, "detection")
            else:  # pragma: no cover - protocol violation
                raise ServiceError(f"unexpected message from the inference worker: {msg!r}")
