"""Runs a detection through the inference client off the GUI thread and reports by Qt signals.

    runner = DetectionRunner(client)          # one warm worker for the app's lifetime
    runner.progress.connect(bar.update)       # (fraction 0..1, message)
    runner.finished.connect(show_findings)    # DetectReply (findings, saliency files, timings)
    runner.failed.connect(show_error)         # one line a user can act on
    runner.start(volume)                      # returns at once
    runner.cancel()                           # from the Cancel button

The request runs in a Python thread that blocks on the worker's pipe; Qt delivers the signals to
receivers in the GUI thread (queued), so slots may touch widgets. torch is never imported here.
A dead worker arrives as ``failed`` and is started again by the next ``start``.
"""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import QObject, Signal

from inference.service.client import InferenceClient
from inference.domain.progress import Cancelled
from viewer.errors import user_facing_errors


class DetectionRunner(QObject):
    """One detection at a time; ``start`` while running raises ``RuntimeError``."""

    progress = Signal(float, str)
    finished = Signal(object)
    failed = Signal(str)
    #: emitted (before ``failed``) when the request ended because of :meth:`cancel`
    cancelled = Signal()

    def __init__(self, client: InferenceClient | None = None, parent: QObject | None = None, *,
                 model: str | None = None, device: str = "auto") -> None:
        super().__init__(parent)
        self._owns_client = client is None
        self.client = client if client is not None else InferenceClient(model=model, device=device)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, scan: Any, **options: Any) -> None:
        """Detect in ``scan`` (a Volume or a path); ``options`` go to ``InferenceClient.detect``."""
        with self._lock:
            if self.is_running():
                raise RuntimeError("a detection is already running; cancel it or wait for it")
            self._thread = threading.Thread(target=self._run, args=(scan, options),
                                            name="nodulelens-detect", daemon=True)
            self._thread.start()

    def cancel(self) -> None:
        """Ask the running detection to stop; ``cancelled`` and ``failed`` follow."""
        if self.is_running():
            self.client.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the running detection has ended (for shutdown and tests)."""
        t = self._thread
        if t is not None:
            t.join(timeout)
        return not self.is_running()

    def shutdown(self) -> None:
        """Cancel, wait, and stop the worker if this runner started it."""
        self.cancel()
        self.wait(30.0)
        if self._owns_client:
            self.client.close()

    def _run(self, scan: Any, options: dict) -> None:
        try:
            reply = self.client.detect(scan, progress=self._progress, **options)
        except Cancelled as exc:
            self.cancelled.emit()
            self.failed.emit(str(exc))
        except user_facing_errors() as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # the GUI shows it and keeps running
            self.failed.emit(f"detection failed unexpectedly: {type(exc).__name__}: {exc}")
        else:
            self.finished.emit(reply)

    def _progress(self, fraction: float, message: str) -> None:
        self.progress.emit(float(fraction), str(message))
