"""The Detect action of the main window: runs the worker on the scan on screen, shows progress with
a Cancel button, and hands the findings to the review (stored like a screening) or, without a
review store, straight to the views.

    controller = install_detection(window, review)   # review: ReviewController or None

``Analysis ▸ Detect nodules`` (Ctrl+D) runs it by hand; a scan that opens with no stored AI
findings is detected automatically (``auto=True``), off the GUI thread, so the radiologist
starts reading while the worker runs. The worker process starts on the first request and stays
warm until the window closes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QProgressBar, QPushButton

from inference.training.operating_table import DEFAULT_FLOOR
from viewer.messages import Level, Source
from viewer.review.errors import ReviewError
from viewer.review.screening import Detection, record_detection
from viewer.controllers.detection_runner import DetectionRunner

if TYPE_CHECKING:
    from inference.imaging.volume import Volume
    from inference.service.protocol import DetectReply
    from viewer.main_window import MainWindow
    from viewer.controllers.review_controller import ReviewController


class DetectionController(QObject):
    #: (volume, warnings): the worker's warnings about the scan on screen (e.g. lungs cut off)
    warned = Signal(object, tuple)

    def __init__(self, window: MainWindow, review: ReviewController | None = None, *, auto: bool = True,
                 runner: DetectionRunner | None = None) -> None:
        super().__init__(window)
        self.window, self.review, self.auto = window, review, auto
        self.runner = runner or DetectionRunner(parent=self)
        self.runner.progress.connect(self._progress)
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(self._failed)
        self._volume: Volume | None = None
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(160)
        self.bar.setRange(0, 100)
        self.bar.setFormat("Detecting %p%")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancel-detection")
        self.cancel_button.clicked.connect(self.runner.cancel)
        for w in (self.bar, self.cancel_button):
            window.statusBar().addPermanentWidget(w)
            w.hide()
        self.action = QAction("Detect nodules", window)
        self.action.triggered.connect(lambda _c=False: self.detect())
        window.add_action("&Analysis", self.action, "detect")
        self.cancel_action = QAction("Cancel detection", window)
        self.cancel_action.triggered.connect(lambda _c=False: self.runner.cancel())
        window.add_action("&Analysis", self.cancel_action, "cancel_detection")
        window.volume_loaded.connect(self._on_volume)
        window.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        """Closing the window cancels a running detection and stops the worker process."""
        if obj is self.window and event.type() == QEvent.Type.Close and event.isAccepted():
            self.runner.shutdown()
        return False

    # -- starting -------------------------------------------------------------------------------
    def _on_volume(self, volume: Volume) -> None:
        if self.runner.is_running():
            self.runner.cancel()
            self.runner.wait(10.0)
        if self.auto and not self._has_stored_findings(volume):
            self.detect(volume)

    def _has_stored_findings(self, volume: Volume) -> bool:
        uid = volume.info.series_instance_uid
        if self.review is None or not uid:
            return False
        try:
            return self.review.store.is_screened(uid)
        except Exception:  # an unreadable store is reported by the review itself
            return True

    def detect(self, volume: Volume | None = None) -> bool:
        """Start a detection on ``volume`` (default: the scan on screen); False when none."""
        volume = volume if volume is not None else self.window.volume
        if volume is None:
            self.window.statusBar().showMessage("Open a scan first, then detect.", 8000)
            return False
        if self.runner.is_running():
            self.window.statusBar().showMessage("A detection is already running.", 5000)
            return False
        self._volume = volume
        saliency_dir = None
        if self.review is not None and volume.info.series_instance_uid:
            from viewer.review.saliency_dir import series_saliency_dir

            saliency_dir = series_saliency_dir(self.review.store.path, volume.info.series_instance_uid)
        self.bar.setValue(0)
        self.bar.show()
        self.cancel_button.show()
        self.action.setEnabled(False)
        self.window.statusBar().showMessage("Detecting nodules (the worker runs in the background)…")
        self.runner.start(volume, analyze=True, saliency=True, saliency_dir=saliency_dir, floor=DEFAULT_FLOOR)
        return True

    # -- results --------------------------------------------------------------------------------
    def _progress(self, fraction: float, message: str) -> None:
        self.bar.setValue(int(round(100 * fraction)))
        if message:
            self.window.statusBar().showMessage(f"Detection: {message}")

    def _done(self) -> None:
        self.bar.hide()
        self.cancel_button.hide()
        self.action.setEnabled(True)

    def _failed(self, message: str) -> None:
        self._done()
        self.window.statusBar().showMessage(f"Detection stopped: {message}", 15000)
        self.window.post_message(Source.WORKER, f"Detection stopped: {message}", Level.ERROR, self._context())

    def _context(self) -> str:
        info = getattr(self._volume, "info", None)
        return (info.series_description or info.series_instance_uid) if info is not None else ""

    def _finished(self, reply: DetectReply) -> None:
        self._done()
        volume = self._volume
        if volume is None or volume is not self.window.volume:
            return  # the user opened another scan meanwhile
        for warning in reply.warnings:
            self.window.post_message(Source.WORKER, warning, Level.WARNING, self._context())
        if reply.warnings:
            self.warned.emit(volume, tuple(reply.warnings))
        n = sum(f.score >= reply.threshold for f in reply.findings)
        note = (f"{n} finding(s) at or above the operating point {reply.threshold:.2f} of "
                f"{reply.model.model_id} ({reply.device})")
        if self.review is not None and volume.info.series_instance_uid:
            self._store(volume, reply)
        else:
            self.window.set_findings(list(reply.findings))
        self.window.statusBar().showMessage(note, 15000)

    def _store(self, volume: Volume, reply: DetectReply) -> None:
        """Stored like a screening (:func:`viewer.review.screening.record_detection`), then reviewed."""
        review = self.review
        assert review is not None
        # the loader's warnings about the scan on screen and the worker's about the result, stored with
        # the series as a screening stores them
        warnings = tuple(dict.fromkeys((*volume.info.warnings, *reply.info.warnings, *reply.warnings)))
        detection = Detection(tuple(reply.findings), reply.model, reply.threshold, reply.saliency,
                              warnings=warnings)
        try:
            record_detection(review.store, volume.info.series_instance_uid, detection, review.reviewer)
        except ReviewError as exc:
            review.notice(f"NOT SAVED: {exc}")
            self.window.post_message(Source.REVIEW, f"The findings were not stored: {exc}", Level.ERROR,
                                     self._context())
            return
        review.on_volume(volume)


def install_detection(window: MainWindow, review: ReviewController | None = None, *,
                      auto: bool = True) -> DetectionController:
    controller = DetectionController(window, review, auto=auto)
    window.detection = controller
    return controller


__all__ = ["DetectionController", "install_detection"]
