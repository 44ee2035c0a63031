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

import contextlib
import multiprocessing as mp
import os
import shutil
import tempfile
import threading
import time
from multiprocessing import shared_memory
from pathlib import Path
from typing import Any

import numpy as np

from inference.detection import registry
from inference.detection.registry import ModelError
from inference.domain.progress import Cancelled, Progress
from inference.imaging import errors as imaging_errors
from inference.imaging.errors import ImagingError
from inference.imaging.extent import check_screenable
from inference.imaging.volume import Volume
from inference.service._bootstrap import run_worker
from inference.service.errors import (OutOfMemory, ScanTransferError, ServiceError, WorkerDied, WorkerFailed,
                                      WorkerStartFailed)
from inference.service.protocol import (CancelledReply, DetectReply, DetectRequest, ErrorReply, ProgressMessage,
                                        Ready, ScanPath, SharedArray, Shutdown, VolumeInSharedMemory,
                                        affine_to_tuple)

#: the worker's errors that come back as themselves: module → class name → class
_REBUILT: dict[str, dict[str, type[BaseException]]] = {
    m.__name__: {n: c for n, c in vars(m).items() if isinstance(c, type) and issubclass(c, base)}
    for m, base in ((imaging_errors, ImagingError), (registry, ModelError))
}


def _cancelled(detail: str = "") -> Cancelled:
    return Cancelled("detection cancelled by the user" + (f" ({detail})" if detail else ""))


def _rebuild_error(reply: ErrorReply, during: str) -> BaseException:
    """The typed error for an :class:`ErrorReply`: scan-reading and model errors keep their type."""
    module_name, _, cls_name = reply.error_type.partition(":")
    cls = _REBUILT.get(module_name, {}).get(cls_name)
    if cls is not None and issubclass(cls, ImagingError) and reply.path is not None:
        return cls(reply.path, reply.problem or reply.message, reply.fix or "")
    if cls is not None and issubclass(cls, ModelError):
        return cls(reply.message)
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
            with contextlib.suppress(OSError):
                conn.close()
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
                with contextlib.suppress(OSError):  # BrokenPipeError is an OSError
                    self._conn.send(Shutdown())
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
               saliency_top: int | None = 10, progress: Progress | None = None,
               threshold: float | None = None, floor: float | None = None) -> DetectReply:
        """Run detection (and analysis, and saliency) on ``scan``; blocks until the reply.

        A volume with too little of the chest raises ``TooLittleChest`` here, before any worker
        starts; a scan given by path is checked by the worker as soon as it has read it."""
        if isinstance(scan, Volume):
            check_screenable(scan)
        with self._lock:
            self._cancel_requested.clear()
            self._ensure_started()
            if self._cancel_requested.is_set():
                raise _cancelled()
            self._request_id += 1
            rid = self._request_id
            if saliency and saliency_dir is None:
                if self._tmp is None:
                    self._tmp = tempfile.mkdtemp(prefix="nodulelens-saliency-")
                saliency_dir = os.path.join(self._tmp, f"request-{rid}")
            shm = None
            ref: VolumeInSharedMemory | ScanPath
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
                    raise _cancelled()
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

    def _wait(self, rid: int, progress: Progress | None) -> DetectReply:
        cancel_at: float | None = None
        while True:
            if cancel_at is None and self._cancel_requested.is_set():
                cancel_at = time.monotonic()
            if cancel_at is not None and time.monotonic() - cancel_at >= self.cancel_grace:
                self._discard_worker(kill=True)
                raise _cancelled("the worker was stopped; it is started again on the next request")
            msg = self._next_message(cancelling=cancel_at is not None)
            if msg is None or getattr(msg, "request_id", rid) != rid:
                continue  # nothing yet, or a late message of an earlier (cancelled) request
            reply = self._on_message(msg, progress if cancel_at is None else None)
            if reply is not None:
                return reply

    def _next_message(self, cancelling: bool) -> Any:
        """The worker's next message within 0.1 s (None when there is none yet); a worker that
        has gone raises ``WorkerDied`` (or ``Cancelled`` while cancelling)."""
        proc, conn = self._proc, self._conn
        try:
            if conn.poll(0.1):
                return conn.recv()
        except (EOFError, OSError):
            proc.join(timeout=2)
            code = proc.exitcode
            self._discard_worker(kill=True)
            if cancelling:
                raise _cancelled() from None
            raise WorkerDied(code, "detection") from None
        if not proc.is_alive() and not conn.poll(0):
            code = proc.exitcode
            self._discard_worker()
            if cancelling:
                raise _cancelled()
            raise WorkerDied(code, "detection")
        return None

    def _on_message(self, msg: Any, progress: Progress | None) -> DetectReply | None:
        """The reply a message ends the request with (None: keep waiting); errors are raised typed."""
        if isinstance(msg, ProgressMessage):
            if progress is not None:
                progress(msg.fraction, msg.message)
            return None
        if isinstance(msg, DetectReply):
            return msg
        if isinstance(msg, CancelledReply):
            raise _cancelled()
        if isinstance(msg, ErrorReply):
            if msg.fatal:
                self._discard_worker(kill=True)
            raise _rebuild_error(msg, "detection")
        raise ServiceError(f"unexpected message from the inference worker: {msg!r}")
