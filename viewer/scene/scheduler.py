"""One Render() per frame per view: render requests are coalesced by a single-shot timer.

Scene code never calls ``Render()`` itself; it calls :meth:`RenderScheduler.request_render` with
the render window that changed. Many requests before the timer fires cost one render each.
Views that only follow another one (the linked planes while the user scrolls) ask with
``lazy=True``: they are rendered at most every ``lazy_ms`` so the view under the mouse keeps the
frame rate.
"""

from __future__ import annotations

from typing import Callable, Protocol

from PySide6.QtCore import QObject, QTimer


class Renderable(Protocol):
    """What the scheduler renders: a VTK render window (or anything with ``Render()``)."""

    def Render(self) -> None: ...


class RenderScheduler(QObject):
    """Coalesces render requests until control returns to the Qt event loop."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = 0, lazy_ms: int = 80) -> None:
        super().__init__(parent)
        self._pending: dict[int, Renderable] = {}
        self._lazy: dict[int, Renderable] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.flush)
        self._lazy_timer = QTimer(self)
        self._lazy_timer.setSingleShot(True)
        self._lazy_timer.setInterval(lazy_ms)
        self._lazy_timer.timeout.connect(self.flush_lazy)
        #: renders done so far (one per window per flush); benchmarks and tests read it
        self.render_count = 0
        self.after_render: list[Callable[[], None]] = []
        self.stopped = False

    def request_render(self, render_window: Renderable, lazy: bool = False) -> None:
        """Ask for ``render_window.Render()`` once, at the next turn of the event loop
        (``lazy``: within ``lazy_ms``)."""
        if self.stopped:
            return
        key = id(render_window)
        if lazy:
            if key not in self._pending:
                self._lazy[key] = render_window
                if not self._lazy_timer.isActive():
                    self._lazy_timer.start()
            return
        self._lazy.pop(key, None)
        self._pending[key] = render_window
        if not self._timer.isActive():
            self._timer.start()

    @property
    def pending(self) -> int:
        return len(self._pending) + len(self._lazy)

    @property
    def idle(self) -> bool:
        """Nothing pending and no timer running: nothing will be rendered until the next request."""
        return not self.pending and not self._timer.isActive() and not self._lazy_timer.isActive()

    def flush(self) -> None:
        """Render every window that asked (not lazily), once each, now."""
        self._timer.stop()
        pending, self._pending = self._pending, {}
        self._render(pending)

    def flush_lazy(self) -> None:
        self._lazy_timer.stop()
        pending, self._lazy = self._lazy, {}
        self._render(pending)

    def flush_all(self) -> None:
        self.flush()
        self.flush_lazy()

    def stop(self) -> None:
        """Forget pending renders and refuse new ones (the windows are going away)."""
        self.stopped = True
        self._timer.stop()
        self._lazy_timer.stop()
        self._pending.clear()
        self._lazy.clear()

    def _render(self, windows: dict[int, Renderable]) -> None:
        for window in windows.values():
            window.Render()
            self.render_count += 1
        if windows:
            for callback in list(self.after_render):
                callback()


class ImmediateRenderer:
    """Same interface without Qt: renders at :meth:`flush` (offscreen snapshots)."""

    def __init__(self) -> None:
        self._pending: dict[int, Renderable] = {}
        self.render_count = 0

    def request_render(self, render_window: Renderable, lazy: bool = False) -> None:
        self._pending[id(render_window)] = render_window

    def flush_all(self) -> None:
        self.flush()

    def flush(self) -> None:
        pending, self._pending = self._pending, {}
        for window in pending.values():
            window.Render()
            self.render_count += 1
