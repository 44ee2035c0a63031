"""Glue between the main window, the review panel, the worklist and a review session.

Every handler calls one :class:`~viewer.review.session.ReviewSession` method and then shows the
state re-read from the store, so the screen only says "done" for what is committed. A failed write
(read-only or full disk) is shown as NOT SAVED with the pending actions, and retried every few
seconds and on the next action.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel

from inference.domain.finding import Box3D
from viewer.review.errors import ReviewError, StoreWriteError
from viewer.review.model import StudyStatus
from viewer.review.session import ReviewSession, add_box
from viewer.review.settings import ReviewSettings
from viewer.review.store import Store
from viewer.widgets.review_dialogs import BoxDialog, CommentDialog, HelpOverlay, RejectDialog
from viewer.widgets.review_panel import ReviewPanel
from viewer.widgets.worklist_panel import WorklistPanel

RETRY_MS = 5000
WORKLIST_REFRESH_MS = 15000


class _Measurer(QObject):
    """Measures off the GUI thread; ``done`` is delivered on the GUI thread (queued)."""

    done = Signal(object, object)  # continuation, (analysis, diameter) or an exception

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.busy = False
        self.done.connect(self._finish)

    def start(self, session: ReviewSession, center: Any, box: Box3D, then: Callable[[Any], None]) -> bool:
        if self.busy:
            return False
        self.busy = True

        def work() -> None:
            try:
                result: Any = session.measure(center, box)
            except Exception as exc:  # shown to the user on the GUI thread
                result = exc
            self.done.emit(then, result)
        threading.Thread(target=work, name="nodulelens-measure", daemon=True).start()
        return True

    def _finish(self, then: Callable[[Any], None], result: Any) -> None:
        self.busy = False
        then(result)


class ReviewController(QObject):
    def __init__(self, window: Any, store: Store, settings: ReviewSettings) -> None:
        super().__init__(window)
        self.window, self.store, self.settings = window, store, settings
        self.session: ReviewSession | None = None
        self.selected: str | None = None
        self.add_tool_on = False
        self.dialog: Any = None
        self.panel = ReviewPanel()
        self.worklist = WorklistPanel()
        self.help = HelpOverlay(window)
        self.status_label = QLabel()
        self.measurer = _Measurer(self)
        self.retry_timer = QTimer(self)
        self.retry_timer.setInterval(RETRY_MS)
        self.retry_timer.timeout.connect(self.retry)
        self.worklist_timer = QTimer(self)  # screening may be filling the store from another process
        self.worklist_timer.setInterval(WORKLIST_REFRESH_MS)
        self.worklist_timer.timeout.connect(self.refresh_worklist)
        self.worklist_timer.start()
        self.panel.retry.clicked.connect(self.retry)
        self.panel.finding_clicked.connect(self._select)
        self.worklist.open_requested.connect(lambda row: self.open_series(row.scan_path, row.series_uid))
        self._close_warned = False
        window.installEventFilter(self)
        window.volume_loaded.connect(self.on_volume)
        window.finding_selected.connect(self.on_selected)
        window.world_point_clicked.connect(self.on_click)
        window.box_edited.connect(self.edit_box)  # boxes dragged or drawn with the mouse
        window.box_drawn.connect(self.add_drawn)
        window.box_editing = True
        self.update_status()
        self.refresh_worklist()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt)
        """Closing with unsaved actions: retry once; if they still fail, warn and stay open
        (closing again quits and loses them)."""
        if obj is self.window and event.type() == QEvent.Type.Close and self.session is not None \
                and self.session.pending:
            self.retry()
            if self.session.pending and not self._close_warned:
                self._close_warned = True
                self.notice(f"{len(self.session.pending)} action(s) are NOT SAVED. Free disk space or "
                            "fix the store's permissions; close again to quit and lose them.")
                event.ignore()
                return True
        return False

    # -- studies -------------------------------------------------------------------------------
    def refresh_worklist(self) -> None:
        self.worklist.set_rows(self.store.worklist(), self.session.series_uid if self.session else None)

    def open_series(self, scan_path: str, series_uid: str | None) -> None:
        """Load the scan; its stored findings are shown when it arrives (no re-inference)."""
        self.window.open_path(scan_path, series_uid)

    def on_volume(self, volume: Any) -> None:
        info = volume.info
        self.session, self.selected = None, None
        if not info.series_instance_uid:
            self.notice("This scan has no Series Instance UID: it cannot be reviewed or stored.")
            return self.show()
        try:
            self.store.series_row(info.series_instance_uid)
        except ReviewError:
            source = info.source or (str(Path(info.source_files[0]).parent) if info.source_files else "")
            if not self.guard(lambda: self.store.add_series(
                    info.study_instance_uid, info.series_instance_uid, source, actor=self.reviewer,
                    patient_id=info.patient_id, description=info.series_description,
                    n_slices=volume.shape[0])):
                return self.show()
        self.session = ReviewSession(self.store, info.series_instance_uid, self.reviewer, volume=volume)
        self.guard(self.session.open)
        self.selected = self.session.next_undecided(None)
        self.show()
        self.refresh_worklist()
        if self.selected:
            self.window.select_finding(self.selected)

    @property
    def reviewer(self) -> str:
        return self.settings.reviewer or "unknown reviewer"

    # -- display -------------------------------------------------------------------------------
    def show(self) -> None:
        s = self.session
        if s is None:
            self.window.set_findings(())
            self.panel.show_study(None)
        else:
            self.window.set_findings([fs.finding for fs in s.findings],
                                     {fs.finding.finding_id: fs.status for fs in s.findings})
            self.panel.show_study(s.study, self.selected)
            self.panel.show_unsaved(s.pending, self.panel.unsaved.text().split(": ", 1)[-1])
        self.update_status()

    def update_status(self) -> None:
        pending = len(self.session.pending) if self.session else 0
        extra = f" · {pending} unsaved" if pending else ""
        self.status_label.setText(f"Reviewer: {self.settings.reviewer or '(not set)'} · "
                                  f"Store: {self.store.path}{extra}")

    def notice(self, text: str) -> None:
        self.panel.notice.setText(text)
        self.window.statusBar().showMessage(text, 10000)

    # -- selection -----------------------------------------------------------------------------
    def _select(self, finding_id: str) -> None:
        self.window.select_finding(finding_id)

    def on_selected(self, finding_id: str) -> None:
        self.selected = finding_id
        if self.session is not None:
            self.guard(lambda: self.session.show(finding_id))
            self._show_saliency(finding_id)
            self.panel.show_study(self.session.study, finding_id)

    def _show_saliency(self, finding_id: str) -> None:
        paths = {s.finding.finding_id: s.saliency_path for s in self.store.stored_findings(self.session.series_uid)}
        path = paths.get(finding_id)
        if path and Path(path).is_file():
            from inference.service.findings_file import load_saliency
            try:
                self.window.set_saliency(load_saliency(path))
            except Exception as exc:  # a missing/damaged map must not stop the review
                self.notice(f"Saliency map {path} could not be read: {exc}")

    def step_undecided(self, step: int) -> None:
        if self.session is not None:
            fid = self.session.next_undecided(self.selected, step)
            if fid is not None:
                self.window.select_finding(fid)
            else:
                self.notice("Every finding is decided: sign off with Ctrl+Return.")

    # -- actions -------------------------------------------------------------------------------
    def _act(self, fn: Callable[[ReviewSession], object], needs_finding: bool = True) -> None:
        if self.session is None:
            return self.notice("Open a study from the worklist first.")
        if needs_finding and self.selected is None:
            return self.notice("Select a finding first (N / P).")
        self.guard(lambda: fn(self.session))
        if self.selected and self.selected not in {fs.finding.finding_id for fs in self.session.findings}:
            self.selected = self.session.next_undecided(None)
        self.show()
        self.refresh_worklist()

    def guard(self, fn: Callable[[], object]) -> bool:
        try:
            fn()
        except StoreWriteError as exc:
            self.panel.show_unsaved(self.session.pending if self.session else [None], str(exc))
            self.notice(f"NOT SAVED: {exc}")
            self.retry_timer.start()
            return False
        except ReviewError as exc:
            self.notice(str(exc))
            return False
        self.panel.notice.setText("")
        return True

    def retry(self) -> None:
        if self.session is None or not self.session.pending:
            self.retry_timer.stop()
            return
        if self.guard(self.session.retry_pending):
            self.retry_timer.stop()
            self.panel.show_unsaved([])
        self.show()

    def accept(self) -> None:
        self._act(lambda s: s.accept(self.selected))

    def reject(self) -> None:
        if self.session is None or self.selected is None:
            return self._act(lambda s: None)
        fid = self.selected
        self.dialog = RejectDialog(fid, self.window)
        self.dialog.chosen.connect(lambda reason, text: self._act(lambda s: s.reject(fid, reason, text)))
        self.dialog.open()

    def edit(self) -> None:
        if self.session is None or self.selected is None:
            return self._act(lambda s: None)
        fid = self.selected
        self.dialog = BoxDialog(f"Edit the box of {fid}", self.session.state(fid).finding.box, self.window)
        self.dialog.chosen.connect(lambda box: self._measured(box, lambda m: s_edit(fid, box, m)))
        self.dialog.open()

        def s_edit(f: str, box: Box3D, m: Any) -> None:
            self._act(lambda s: s.edit(f, box, measured=m), needs_finding=False)

    def comment(self) -> None:
        if self.session is None or self.selected is None:
            return self._act(lambda s: None)
        fid = self.selected
        self.dialog = CommentDialog(fid, self.session.state(fid).comment, self.window)
        self.dialog.chosen.connect(lambda text: self._act(lambda s: s.comment(fid, text)))
        self.dialog.open()

    def _measured(self, box: Box3D, then: Callable[[Any], None]) -> None:
        """Measure in the background, then ``then(measured)`` on the GUI thread."""
        if self.session is None:
            self.window.cancel_box_preview()
            return
        session = self.session

        def finish(result: Any) -> None:
            if self.session is not session:
                return  # another study was opened meanwhile
            if isinstance(result, Exception):
                self.notice(f"Measuring failed ({result}); the box is kept unmeasured.")
                result = (None, None)
            then(result)
        if self.measurer.start(session, box.center, box, finish):
            self.notice("Measuring the nodule…")
        else:
            self.window.cancel_box_preview()
            self.notice("Still measuring the previous nodule; try again in a moment.")

    def add_at(self, world: Any) -> None:
        """Add a nodule at a clicked centre (a default box around it, then measured)."""
        self.add_drawn(add_box(None, tuple(float(c) for c in world)))

    def add_drawn(self, box: Box3D) -> None:
        """Add a nodule with a box drawn in a view; measured like an AI finding."""
        if self.session is None:
            self.window.cancel_box_preview()
            return self.notice("Open a study from the worklist first.")

        def add(m: Any) -> None:
            added: list[str] = []
            self._act(lambda s: added.append(s.add(box=box, measured=m)), needs_finding=False)
            if added and self.session is not None:
                self.window.select_finding(added[0])
        self._measured(box, add)

    def add_here(self) -> None:
        self.add_at(self.window.scene.cursor)

    def set_add_tool(self, on: bool) -> None:
        self.add_tool_on = bool(on)
        self.window.box_drawing = self.add_tool_on
        self.notice("Add-nodule tool: click the nodule's centre or drag a box around it in any view."
                    if on else "")

    def on_click(self, world: Any) -> None:
        if self.add_tool_on:
            self.add_at(world)

    def edit_box(self, finding_id: str, box: Box3D) -> None:
        """A finding's box moved or resized in a view: an EDITED decision, re-measured off the
        GUI thread like the keyboard edit."""
        if self.session is None:
            self.window.cancel_box_preview()
            return self.notice("Open a study from the worklist first.")
        self._measured(box, lambda m: self._act(lambda s: s.edit(finding_id, box, measured=m),
                                                needs_finding=False))

    def undo(self) -> None:
        self._act(lambda s: s.undo(), needs_finding=False)

    def redo(self) -> None:
        self._act(lambda s: s.redo(), needs_finding=False)

    def sign_off(self) -> None:
        self._act(lambda s: s.sign_off(), needs_finding=False)
        if self.session is not None and self.session.status is StudyStatus.SIGNED_OFF:
            self.notice(f"Signed off by {self.session.reviewer}. Next study: Ctrl+Shift+N.")

    def reopen(self) -> None:
        self._act(lambda s: s.reopen("reopened in the viewer"), needs_finding=False)

    def next_study(self) -> None:
        row = self.worklist.next_after(self.session.series_uid if self.session else None)
        if row is None:
            return self.notice("No other study waiting in the worklist.")
        self.open_series(row.scan_path, row.series_uid)
