"""Loading a scan off the GUI thread: a worker thread runs ``inference.imaging.load`` and reports
progress, the volume, or the typed error, back to the GUI thread as Qt signals.

The work runs in a plain Python thread; the signals are emitted from it and Qt queues them to
the receivers, which live in the GUI thread. (An earlier design ran a QThread and waited for it in
a slot of its ``finished`` signal; that wait could deadlock with the thread's own exit.)
"""

from __future__ import annotations

import threading
from typing import Callable

from PySide6.QtCore import QObject, Signal


class Loader(QObject):
    """One load at a time; ``start`` while loading raises ``RuntimeError``."""

    progress = Signal(float, str)  # fraction 0..1, message
    loaded = Signal(object)  # the job's result (a Volume, or a Phantom for the demo)
    failed = Signal(object)  # the exception (typed, user-facing) or any other error
    several_series = Signal(object)  # the MultipleSeries error (with .series)
    finished = Signal()  # after any of the three above

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, path: str, series_uid: str | None = None) -> None:
        """Load a scan with ``inference.imaging.load``."""

        def job(progress):
            from inference.imaging import load

            return load(path, series_uid=series_uid, progress=progress)

        self.start_job(job)

    def start_job(self, job: Callable[[Callable[[float, str], None]], object]) -> None:
        """Run ``job(progress)`` off the GUI thread; its result comes back as ``loaded``."""
        if self.busy and self._thread is not None:  # a load that has just reported may still be returning
            self._thread.join(1.0)
        if self.busy:
            raise RuntimeError("a scan is already loading")
        self._thread = threading.Thread(target=self._run, args=(job,), name="nodulelens-load",
                                        daemon=True)
        self._thread.start()

    def _run(self, job: Callable[[Callable[[float, str], None]], object]) -> None:
        from inference.imaging.errors import MultipleSeries

        try:
            result = job(self._progress)
        except MultipleSeries as exc:
            self.several_series.emit(exc)
        except Exception as exc:  # shown in the error dialog, the app keeps running
            self.failed.emit(exc)
        else:
            self.loaded.emit(result)
        finally:
            self.finished.emit()

    def _progress(self, fraction: float, message: str = "") -> None:
        self.progress.emit(float(fraction), str(message))

    def wait(self, ms: int = 60000) -> None:
        if self._thread is not None:
            self._thread.join(ms / 1000.0)
