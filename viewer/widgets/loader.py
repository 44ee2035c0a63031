"""Loading a scan off the GUI thread: a QThread runs ``inference.imaging.load`` and reports
progress, the volume, or the typed error, back to the GUI thread as signals."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, QThread, Signal

from viewer.errors import user_facing_errors


class LoadWorker(QObject):
    progress = Signal(float, str)  # fraction 0..1, message
    loaded = Signal(object)  # the job's result (a Volume, or a Phantom for the demo)
    failed = Signal(object)  # the exception (typed, user-facing) or any other error
    several_series = Signal(object)  # the MultipleSeries error (with .series)

    def __init__(self, job: Callable[[Callable[[float, str], None]], object]) -> None:
        super().__init__()
        self.job = job

    def run(self) -> None:
        from inference.imaging.errors import MultipleSeries

        try:
            volume = self.job(self._progress)
        except MultipleSeries as exc:
            self.several_series.emit(exc)
        except user_facing_errors() as exc:
            self.failed.emit(exc)
        except Exception as exc:  # noqa: BLE001 — shown in the error dialog, the app keeps running
            self.failed.emit(exc)
        else:
            self.loaded.emit(volume)

    def _progress(self, fraction: float, message: str = "") -> None:
        self.progress.emit(float(fraction), str(message))


class Loader(QObject):
    """Starts one LoadWorker in its own QThread; forwards its signals."""

    progress = Signal(float, str)
    loaded = Signal(object)
    failed = Signal(object)
    several_series = Signal(object)
    finished = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: LoadWorker | None = None

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def start(self, path: str, series_uid: str | None = None) -> None:
        """Load a scan with ``inference.imaging.load``."""

        def job(progress):
            from inference.imaging import load

            return load(path, series_uid=series_uid, progress=progress)

        self.start_job(job)

    def start_job(self, job: Callable[[Callable[[float, str], None]], object]) -> None:
        """Run ``job(progress)`` off the GUI thread; its result comes back as ``loaded``."""
        if self._thread is not None and self._thread.isFinished():
            self._done()  # its `finished` signal is still queued
        if self._thread is not None:
            raise RuntimeError("a scan is already loading")
        thread = QThread()
        worker = LoadWorker(job)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progress.connect(self.progress)
        for sig in (worker.loaded, worker.failed, worker.several_series):
            sig.connect(thread.quit)
        worker.loaded.connect(self.loaded)
        worker.failed.connect(self.failed)
        worker.several_series.connect(self.several_series)
        thread.finished.connect(self._done)
        self._thread, self._worker = thread, worker
        thread.start()

    def _done(self) -> None:
        thread, self._thread, self._worker = self._thread, None, None
        if thread is not None:
            thread.finished.disconnect(self._done)
            thread.wait()
            thread.deleteLater()
        self.finished.emit()

    def wait(self, ms: int = 60000) -> None:
        if self._thread is not None:
            self._thread.wait(ms)
