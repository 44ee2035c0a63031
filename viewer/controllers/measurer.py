"""Measuring a nodule off the GUI thread; the result comes back on the GUI thread (queued signal)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from inference.domain.finding import Box3D
from viewer.review.session import Measured, ReviewSession

Then = Callable[[Measured | Exception], None]


class Measurer(QObject):
    """One measurement at a time; ``then(result or exception)`` runs on the GUI thread."""

    done = Signal(object, object)  # continuation, (analysis, diameter) or an exception

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.busy = False
        self.done.connect(self._finish)

    def start(self, session: ReviewSession, box: Box3D, then: Then) -> bool:
        if self.busy:
            return False
        self.busy = True

        def work() -> None:
            result: Measured | Exception
            try:
                result = session.measure(box.center, box)
            except Exception as exc:  # shown to the user on the GUI thread
                result = exc
            self.done.emit(then, result)
        threading.Thread(target=work, name="nodulelens-measure", daemon=True).start()
        return True

    def _finish(self, then: Then, result: Measured | Exception) -> None:
        self.busy = False
        then(result)
