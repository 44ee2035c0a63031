"""Every warning about the scan on screen stays in sight: a status-bar badge and the Messages list.

The window posts each of the loader's warnings to the Messages list when a scan loads, and the
status bar says how many there were — until the next transient message (the review's notice,
"Detecting nodules…") replaces it. This controller adds a permanent badge to the status bar,
"⚠ N warning(s) about this scan", whose tooltip lists every one of them, kept until another scan
loads; the worker's warnings from a detection run in the window join it (:meth:`LoadWarnings.add`,
connected to the detection controller's ``warned``). A scan screened earlier (``nodulelens
screen``) also brings the warnings stored with its series: those the loader did not give again
(the worker's, e.g. a finding not measured) are posted to Messages as well. Warning texts hold
file names and header values: shown as plain text only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject

from viewer.messages import Level, Source
from viewer.widgets.plain_text import plain_label, plain_tip

if TYPE_CHECKING:
    from inference.imaging.volume import Volume
    from viewer.review.store import Store

#: the prefix of a stored screening warning posted to Messages
FROM_SCREENING = "from the screening: "


def scan_warnings(loaded: Sequence[str], stored: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(every warning about the scan: the loader's, then the stored ones it did not repeat; those
    stored ones alone). Qt-free."""
    extra = tuple(w for w in dict.fromkeys(stored) if w not in loaded)
    return tuple(dict.fromkeys(loaded)) + extra, extra


class LoadWarnings(QObject):
    """The badge; ``warnings`` are those of the scan on screen."""

    def __init__(self, window: Any, store: Store | None = None) -> None:
        super().__init__(window)
        self.window, self.store = window, store
        self.warnings: tuple[str, ...] = ()
        self.badge = plain_label()
        self.badge.setObjectName("scanWarnings")
        self.badge.hide()
        window.statusBar().addPermanentWidget(self.badge)
        window.volume_loaded.connect(self._on_volume)

    def _stored(self, series_uid: str) -> tuple[str, ...]:
        if self.store is None or not series_uid:
            return ()
        from viewer.review.errors import ReviewError

        try:
            return self.store.screen_warnings(series_uid)
        except ReviewError:  # an unreadable store: the review says so; the loader's warnings still show
            return ()

    def _on_volume(self, volume: Volume) -> None:
        info = volume.info
        shown, extra = scan_warnings(info.warnings, self._stored(info.series_instance_uid))
        context = info.series_description or info.source or "scan"
        for w in extra:
            self.window.post_message(Source.WORKER, FROM_SCREENING + w, Level.WARNING, context)
        self._show(shown)

    def add(self, volume: Volume, warnings: Sequence[str]) -> None:
        """More warnings about ``volume`` (the worker's, after detection in the window); they join
        the badge while that scan is on screen (they are posted to Messages by whoever found them)."""
        if volume is self.window.volume:
            self._show(tuple(dict.fromkeys((*self.warnings, *warnings))))

    def _show(self, shown: tuple[str, ...]) -> None:
        self.warnings = shown
        if not shown:
            self.badge.hide()
            return
        self.badge.setText(f"⚠ {len(shown)} warning(s) about this scan: see Messages")
        self.badge.setToolTip(plain_tip("\n".join(shown)))  # one per line, literally
        self.badge.show()


def install_load_warnings(window: Any, store: Store | None = None, detection: Any = None) -> LoadWarnings:
    """The badge on ``window``; with ``detection`` (a DetectionController) the worker's warnings join it."""
    controller = LoadWarnings(window, store)
    if detection is not None:
        detection.warned.connect(controller.add)
    window.load_warnings = controller
    return controller


__all__ = ["FROM_SCREENING", "LoadWarnings", "install_load_warnings", "scan_warnings"]
