"""One Render() per frame per view: render requests are coalesced by a single-shot timer.

Scene code never calls ``Render()`` itself; it calls :meth:`RenderScheduler.request_render` with
the render window that changed. Many requests before the timer fires cost one render each.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, QTimer


class RenderScheduler(QObject):
    """Coalesces render requests until control returns to the Qt event loop."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = 0) -> None:
        super().__init__(parent)
        self._pending: dict[int, object] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.flush)
        #: renders done so far (one per window per flush); benchmarks and tests read it
        self.render_count = 0
        self.after_render: list[Callable[[], None]] = []

    def request_render(self, render_window: object) -> None:
        """Ask for ``render_window.Render()`` once, at the next turn of the event loop."""
        self._pending[id(render_window)] = render_window
        if not self._timer.isActive():
            self._timer.start()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> None:
        """Render every window that asked, once each, now."""
        self._timer.stop()
        pending, self._pending = self._pending, {}
        for window in pending.values():
            window.Render()  # type: ignore[attr-defined]
            self.render_count += 1
        for callback in list(self.after_render):
            callback()


class ImmediateRenderer:
    """Same interface without Qt: renders at :meth:`flush` (offscreen snapshots)."""

    def __init__(self) -> None:
        self._pending: dict[int, object] = {}
        self.render_count = 0

    def request_render(self, render_window: object) -> None:
        self._pending[id(render_window)] = render_window

    def flush(self) -> None:
        pending, self._pending = self._pending, {}
        for window in pending.values():
            window.Render()  # type: ignore[attr-defined]
            self.render_count += 1
