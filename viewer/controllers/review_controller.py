"""Glue between the main window, the review panel, the worklist and a review session.

Each handler calls one :class:`~viewer.review.session.ReviewSession` method; what the screen shows
follows the session's typed events (:mod:`viewer.review.events`): the findings list and boxes on
``StudyChanged``, the selection, saliency and finding card on ``SelectionChanged``, the worklist
row on decisions and sign-off, the NOT SAVED banner on ``PendingWriteFailed`` / ``PendingSaved``.
A failed write (read-only or full disk) keeps the actions pending; they are retried every few
seconds and on the next action.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer, Signal

from inference.imaging.volume import Volume
from viewer.messages import Level, Source
from viewer.review.errors import ReviewError, StoreWriteError
from viewer.review.events import (
    FindingAdded, FindingDecided, PendingSaved, PendingWriteFailed, SelectionChanged, StudyChanged,
    StudyReopened, StudySignedOff,
)
from viewer.review.finding_rows import rows_for_study
from viewer.review.model import FindingStatus, RejectReason, ReviewedStudy
from viewer.review.session import ReviewSession
from viewer.review.settings import ReviewSettings
from viewer.review.store import Store
from viewer.controllers import sign_off
from viewer.controllers.measurer import Measurer
from viewer.controllers.review_boxes import BoxEditing
from viewer.widgets.review_dialogs import BoxDialog, CommentDialog, HelpOverlay, RejectDialog, help_rows
from viewer.widgets.plain_text import plain_label
from viewer.widgets.review_panel import ReviewPanel
from viewer.widgets.worklist_panel import WorklistPanel, WorklistRow

if TYPE_CHECKING:
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QDialog

    from viewer.main_window import MainWindow

RETRY_MS = 5000
WORKLIST_REFRESH_MS = 15000


class ReviewController(BoxEditing, QObject):
    #: the series UID of a study just signed off (with or without AI); the automatic PACS send listens
    signed_off = Signal(str)

    def __init__(self, window: MainWindow, store: Store, settings: ReviewSettings) -> None:
        super().__init__(window)
        self.window, self.store, self.settings = window, store, settings
        self.session: ReviewSession | None = None
        self.current_model: str | None = None  # a sign-off with AI needs its detection (None: default)
        self.add_tool_on = False
        self.dialog: QDialog | None = None
        self.actions: dict[str, QAction] = {}
        self.panel = ReviewPanel()
        self.worklist = WorklistPanel()
        self.help = HelpOverlay(window, partial(help_rows, window.keys.keys_of))
        self.status_label = plain_label()  # the reviewer's name is outside text
        self.measurer = Measurer(self)
        self.retry_timer = QTimer(self)
        self.retry_timer.setInterval(RETRY_MS)
        self.retry_timer.timeout.connect(self.retry)
        self.worklist_timer = QTimer(self)  # screening may be filling the store from another process
        self.worklist_timer.setInterval(WORKLIST_REFRESH_MS)
        self.worklist_timer.timeout.connect(self.refresh_worklist)
        self.worklist_timer.start()
        self.panel.retry.clicked.connect(self.retry)
        self.worklist.open_requested.connect(self._open_row)
        self._close_warned = False
        window.card_follows_selection = False
        window.installEventFilter(self)
        window.volume_loaded.connect(self.on_volume)
        window.finding_selected.connect(self.on_selected)
        window.world_point_clicked.connect(self.on_click)
        window.box_edited.connect(self.edit_box)  # boxes dragged or drawn with the mouse
        window.box_drawn.connect(self.add_drawn)
        window.box_editing = True
        self.update_status()
        self.refresh_worklist()
        for note in store.journal_notes:  # a crashed session's pending actions, written on opening
            window.post_message(Source.REVIEW, note, Level.WARNING)

    @property
    def selected(self) -> str | None:
        return self.session.selected if self.session is not None else None

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        """Closing with unsaved actions: retry once; if they still fail, warn and stay open
        (closing again quits and loses them)."""
        if obj is not self.window or event.type() != QEvent.Type.Close:
            return False
        if self.session is not None and self.session.pending:
            self.retry()
            if self.session.pending and not self._close_warned:
                self._close_warned = True
                s, lost = self.session, self.session.unjournaled
                self.notice(f"{lost} action(s) are NOT SAVED, not even in the journal. Free disk space or fix "
                            "the store's permissions; close again to quit and lose them." if lost
                            else f"{len(s.pending)} action(s) are not in the store yet: kept in {s.journal.path}, "
                            "written when the store next opens. Close again to quit.")
                event.ignore()
                return True
        self.worklist_timer.stop()  # the window closes: stop polling the store (it may be closed next)
        return False

    # -- studies -------------------------------------------------------------------------------
    def refresh_worklist(self) -> None:
        self.worklist.set_rows(self.store.worklist(), self.session.series_uid if self.session else None)

    def _open_row(self, row: WorklistRow) -> None:
        self.open_series(row.scan_path, row.series_uid)

    def open_series(self, scan_path: str, series_uid: str | None) -> None:
        """Load the scan; its stored findings are shown when it arrives (no re-inference)."""
        self.window.open_path(scan_path, series_uid)

    def on_volume(self, volume: Volume) -> None:
        if self.session is not None:
            self.session.events.disconnect_all()
        self.session = None
        info = volume.info
        if not info.series_instance_uid:
            self.notice("This scan has no Series Instance UID: it cannot be reviewed or stored.")
            return self._show_study(None)
        if not self._register(volume):
            return self._show_study(None)
        session = ReviewSession(self.store, info.series_instance_uid, self.reviewer, volume=volume,
                                current_model=self.current_model)
        self._subscribe(session)
        self.session = session
        self._show_study(session.study)
        self.guard(session.open)
        self.refresh_worklist()
        self.guard(partial(session.select, session.next_undecided(None)))

    def _register(self, volume: Volume) -> bool:
        info = volume.info
        try:
            self.store.series_row(info.series_instance_uid)
            return True
        except ReviewError:
            source = info.source or (str(Path(info.source_files[0]).parent) if info.source_files else "")
            return self.guard(partial(
                self.store.add_series, info.study_instance_uid, info.series_instance_uid, source,
                actor=self.reviewer, patient_id=info.patient_id, description=info.series_description,
                n_slices=volume.shape[0]))

    def _subscribe(self, s: ReviewSession) -> None:
        s.events.connect(StudyChanged, self._on_study_changed)
        s.events.connect(SelectionChanged, self._on_selection)
        s.events.connect(FindingDecided, self._on_worklist_change)
        s.events.connect(FindingAdded, self._on_added)
        s.events.connect(StudySignedOff, self._on_signed_off)
        s.events.connect(StudyReopened, self._on_worklist_change)
        s.events.connect(PendingWriteFailed, self._on_write_failed)
        s.events.connect(PendingSaved, self._on_saved)

    @property
    def reviewer(self) -> str:
        return self.settings.reviewer or "unknown reviewer"

    # -- what the events show ------------------------------------------------------------------
    def _on_study_changed(self, event: StudyChanged) -> None:
        self._show_study(event.study)

    def _show_study(self, study: ReviewedStudy | None) -> None:
        w = self.window
        if study is None:
            w.set_findings(())
            w.findings_list.set_study_line("No study open")
            return
        w.set_findings([fs.finding for fs in study.findings],
                       {fs.finding.finding_id: fs.status for fs in study.findings})
        w.show_rows(rows_for_study(study), self.selected)
        presented = [fs for fs in study.findings if not w.below_operating_point(fs.finding)]
        undecided = sum(fs.status is FindingStatus.PENDING for fs in presented)
        who = f", signed off by {study.signed_off_by}" if study.signed_off_by else ""
        w.findings_list.set_study_line(f"{study.status.value.upper()}{who} · {len(presented)} finding(s), "
                                       f"{undecided} undecided")
        self._show_card()

    def _show_card(self) -> None:
        s = self.session
        if s is None or s.selected is None:
            self.window.show_finding_card(None)
            return
        fid = s.selected
        self.window.show_finding_card(s.state(fid), s.study.model, self.window.findings_list.changes.get(fid))

    def _on_selection(self, event: SelectionChanged) -> None:
        fid = event.finding_id
        if fid is not None and self.window.scene.selected != fid:
            self.window.select_finding(fid)
        if fid is not None:
            self._show_saliency(fid)
        self._show_card()

    def _on_worklist_change(self, _event: object) -> None:
        self.refresh_worklist()

    def _on_added(self, event: FindingAdded) -> None:
        self.refresh_worklist()
        if self.session is not None:
            self.guard(partial(self.session.select, event.finding_id))

    def _on_signed_off(self, event: StudySignedOff) -> None:
        self.refresh_worklist()
        self.notice(f"Signed off by {event.reviewer}. Next study: Ctrl+Shift+N.")
        self.signed_off.emit(event.series_uid)

    def _on_write_failed(self, event: PendingWriteFailed) -> None:
        self.panel.show_unsaved(event.pending, str(event.error))
        self.window.post_message(Source.REVIEW, f"{event.pending} action(s) NOT SAVED: {event.error}",
                                 Level.ERROR, event.series_uid)
        self.retry_timer.start()
        self.update_status()

    def _on_saved(self, _event: PendingSaved) -> None:
        self.panel.show_unsaved(0)
        self.retry_timer.stop()
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
    def on_selected(self, finding_id: str) -> None:
        """The window selected a finding (a click, a key): the session follows."""
        if self.session is not None:
            self.guard(partial(self.session.select, finding_id))

    def _show_saliency(self, finding_id: str) -> None:
        assert self.session is not None
        paths = {s.finding.finding_id: s.saliency_path for s in self.store.stored_findings(self.session.series_uid)}
        path = paths.get(finding_id)
        if path and Path(path).is_file():
            from inference.service.findings_file import load_saliency
            try:
                self.window.set_saliency(load_saliency(path))
            except Exception as exc:  # a missing/damaged map must not stop the review
                self.window.post_message(Source.REVIEW, f"Saliency map {path} could not be read: {exc}",
                                         Level.WARNING, finding_id)

    def step_undecided(self, step: int) -> None:
        if self.session is None:
            return
        fid = self.session.next_undecided(self.selected, step)
        if fid is None:
            self.notice("Every finding is decided: sign off with Ctrl+Return.")
        else:
            self.guard(partial(self.session.select, fid))

    def next_undecided(self) -> None:
        self.step_undecided(1)

    def previous_undecided(self) -> None:
        self.step_undecided(-1)

    # -- actions -------------------------------------------------------------------------------
    def _act(self, fn: Callable[[ReviewSession], object], needs_finding: bool = True) -> None:
        if self.session is None:
            return self.notice("Open a study from the worklist first.")
        if needs_finding and self.selected is None:
            return self.notice("Select a finding first (N / P).")
        self.guard(partial(fn, self.session))

    def guard(self, fn: Callable[[], object]) -> bool:
        """Run one session/store call; a typed error becomes a notice (the events show the rest)."""
        try:
            fn()
        except StoreWriteError as exc:
            self.notice(f"NOT SAVED: {exc}")
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
        self.guard(self.session.retry_pending)

    def accept(self) -> None:
        fid = self.selected
        if self.session is None or fid is None:
            return self._act(ReviewSession.refresh)
        self._act(lambda s: s.accept(fid), needs_finding=False)

    def _open_dialog(self, dialog: QDialog) -> None:
        self.dialog = dialog
        dialog.open()

    def reject(self) -> None:
        if self.session is None or self.selected is None:
            return self._act(ReviewSession.refresh)
        dialog = RejectDialog(self.selected, self.window)
        dialog.chosen.connect(partial(self._rejected, self.selected))
        self._open_dialog(dialog)

    def _rejected(self, finding_id: str, reason: RejectReason, text: str) -> None:
        self._act(lambda s: s.reject(finding_id, reason, text), needs_finding=False)

    def edit(self) -> None:
        if self.session is None or self.selected is None:
            return self._act(ReviewSession.refresh)
        fid = self.selected
        dialog = BoxDialog(f"Edit the box of {fid}", self.session.state(fid).finding.box, self.window)
        dialog.chosen.connect(partial(self.edit_box, fid))
        self._open_dialog(dialog)

    def comment(self) -> None:
        if self.session is None or self.selected is None:
            return self._act(ReviewSession.refresh)
        fid = self.selected
        dialog = CommentDialog(fid, self.session.state(fid).comment, self.window)
        dialog.chosen.connect(partial(self._commented, fid))
        self._open_dialog(dialog)

    def _commented(self, finding_id: str, text: str) -> None:
        self._act(lambda s: s.comment(finding_id, text), needs_finding=False)

    def undo(self) -> None:
        self._act(ReviewSession.undo, needs_finding=False)

    def redo(self) -> None:
        self._act(ReviewSession.redo, needs_finding=False)

    def sign_off(self) -> None:
        sign_off.sign_off(self)

    def sign_off_without_ai(self) -> None:
        sign_off.sign_off_without_ai(self)

    def reopen(self) -> None:
        self._act(lambda s: s.reopen("reopened in the viewer"), needs_finding=False)

    def change_reviewer(self) -> None:
        from viewer.widgets.reviewer_dialog import ReviewerDialog

        dialog = ReviewerDialog(self.settings.reviewer, self.window)
        if dialog.exec():
            self.settings.set_reviewer(dialog.name)
            if self.session is not None:
                self.session.reviewer = self.settings.reviewer
            self.update_status()

    def next_study(self) -> None:
        row = self.worklist.next_after(self.session.series_uid if self.session else None)
        if row is None:
            return self.notice("No other study waiting in the worklist.")
        self.open_series(row.scan_path, row.series_uid)
