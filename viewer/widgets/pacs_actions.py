"""The app's PACS hooks: File ▸ Query PACS…, File ▸ Send to PACS, File ▸ PACS listener, the
listener's state in the status bar, the automatic send after sign-off and the retry of queued sends.

The PACS section lives in the settings file shared with ``nodulelens pacs`` (so nodes added on the
command line are here too). Network work runs in Python threads; results come back as queued
signals; the GUI thread only updates widgets.
"""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction

from viewer.errors import user_facing_errors
from viewer.widgets.plain_text import plain_label

STATUS_MS = 2000
RETRY_MS = 60_000


class PacsController(QObject):
    sent = Signal(object)  # list[SendOutcome] or an exception

    def __init__(self, window: Any, review: Any, settings: Any = None) -> None:
        from viewer.pacs.config import PacsSettings

        super().__init__(window)
        self.window, self.review = window, review
        self.settings = settings or PacsSettings()
        self.listener: Any = None
        self.dialog: Any = None
        self._send_thread: threading.Thread | None = None
        self._signed_sent: set[tuple[str, int]] = set()
        self.status = plain_label("PACS listener: off")
        window.statusBar().addPermanentWidget(self.status)
        self.query_action = QAction("Query PACS…", window)
        self.query_action.triggered.connect(lambda _c=False: self.open_query())
        self.send_action = QAction("Send to PACS", window)
        self.send_action.triggered.connect(lambda _c=False: self.send_open_study())
        self.listen_action = QAction("PACS listener", window)
        self.listen_action.setCheckable(True)
        self.listen_action.toggled.connect(self.set_listening)
        window.add_action("&File", self.query_action, "pacs_query", ("Ctrl+Shift+Q",))
        window.add_action("&File", self.send_action, "pacs_send", ())
        window.add_action("&File", self.listen_action, "pacs_listener", ())
        signed_off = getattr(review, "signed_off", None)
        if signed_off is not None:  # every sign-off, with AI or without (after its reason dialog)
            signed_off.connect(lambda _uid: self.after_sign_off())
        self.sent.connect(self._sent)
        self.timer = QTimer(self)
        self.timer.setInterval(STATUS_MS)
        self.timer.timeout.connect(self.update_status)
        self.timer.start()
        self.retry_timer = QTimer(self)
        self.retry_timer.setInterval(RETRY_MS)
        self.retry_timer.timeout.connect(lambda: self._send(None, []))
        self.retry_timer.start()

    @property
    def store(self) -> Any:
        return None if self.review is None else self.review.store

    def config(self) -> Any:
        return self.settings.load()

    # -- query / pull --------------------------------------------------------------------------
    def open_query(self) -> Any:
        from viewer.widgets.pacs_dialog import QueryPacsDialog

        if self.store is None:
            self.window.statusBar().showMessage("Query PACS needs the review store.", 8000)
            return None
        try:
            config = self.config()
        except user_facing_errors() as exc:
            self.window.show_error(exc)
            return None
        self.dialog = QueryPacsDialog(config, self.store, self.window)
        self.dialog.study_pulled.connect(self._pulled)
        self.dialog.show()
        return self.dialog

    def _pulled(self, result: Any) -> None:
        if self.review is not None:
            self.review.refresh_worklist()

    # -- listener ------------------------------------------------------------------------------
    def set_listening(self, on: bool) -> None:
        from viewer.pacs.intake import Intake
        from viewer.pacs.listener import Listener

        if on and self.listener is None and self.store is not None:
            try:
                self.listener = Listener(self.config(), Intake(self.store))
                self.listener.start()
            except user_facing_errors() as exc:
                self.listener = None
                self.listen_action.setChecked(False)
                self.window.show_error(exc)
        elif not on and self.listener is not None:
            self.listener.stop()
            self.listener = None
        self.update_status()

    def update_status(self) -> None:
        from viewer.review.pacs_queue import OutboxState, items

        text = self.listener.status_line() if self.listener is not None else "PACS listener: off"
        if self.store is not None:
            waiting = len(items(self.store, OutboxState.PENDING))
            if waiting:
                text += f"; {waiting} object(s) queued to send"
        self.status.setText(text)

    # -- sending -------------------------------------------------------------------------------
    def send_open_study(self, node: str | None = None, formats: list[str] | None = None) -> bool:
        session = getattr(self.review, "session", None)
        if session is None:
            self.window.statusBar().showMessage("Open a study from the worklist to send it.", 8000)
            return False
        try:
            config = self.config()
        except user_facing_errors() as exc:
            self.window.statusBar().showMessage(f"Send to PACS: {exc}", 15000)
            return False
        target = node or config.local.auto_send_node or (config.nodes[0].name if config.nodes else "")
        if not target:
            self.window.statusBar().showMessage("No PACS node configured (nodulelens pacs nodes add).", 8000)
            return False
        return self._send(session.series_uid, formats or list(config.local.auto_send_formats), target)

    def after_sign_off(self) -> None:
        """The automatic send (settings ``auto_send_node``) once per sign-off of the open study."""
        from viewer.review.model import StudyStatus

        session = getattr(self.review, "session", None)
        try:
            config = self.config()
        except user_facing_errors() as exc:
            self.window.statusBar().showMessage(f"Automatic send to PACS: {exc}", 15000)
            return
        if session is None or not config.local.auto_send_node or session.status is not StudyStatus.SIGNED_OFF:
            return
        signs = [a.seq for a in self.store.audit_log(session.series_uid) if a.action == "sign_off"]
        key = (session.series_uid, signs[-1] if signs else 0)
        if key in self._signed_sent:
            return
        self._signed_sent.add(key)
        self._send(session.series_uid, list(config.local.auto_send_formats), config.local.auto_send_node)

    def _send(self, series_uid: str | None, formats: list[str], node: str = "") -> bool:
        """Push a study (or, with ``series_uid=None``, retry the queue) in a thread."""
        if self.store is None or (self._send_thread is not None and self._send_thread.is_alive()):
            return False
        store, actor = self.store, getattr(self.review, "reviewer", "") or "pacs"

        def work() -> None:
            from viewer.pacs.push import push_study
            from viewer.pacs.send import Sender
            try:
                config = self.config()
                if series_uid is None:
                    self.sent.emit(Sender(config, store, actor).retry_due())
                else:
                    self.sent.emit(push_study(config, store, node, series_uid, formats, actor)[0])
            except Exception as exc:  # shown to the user; the app keeps running
                self.sent.emit(exc)
        self._send_thread = threading.Thread(target=work, name="pacs-send", daemon=True)
        self._send_thread.start()
        return True

    def _sent(self, result: object) -> None:
        if isinstance(result, Exception):
            self.window.statusBar().showMessage(f"Send to PACS failed: {result}", 15000)
        elif isinstance(result, list) and result:  # SendOutcome per object
            ok = sum(o.ok for o in result)
            n = len(result)
            self.window.statusBar().showMessage(
                f"Sent {ok} of {n} object(s) to PACS" + ("" if ok == n else f"; {n - ok} queued for retry"), 15000)
        self.update_status()

    def close(self) -> None:
        self.timer.stop()
        self.retry_timer.stop()
        if self.listener is not None:
            self.listener.stop()
            self.listener = None


def install_pacs(window: Any, review: Any, settings: Any = None) -> PacsController:
    """For ``viewer/app.py``: ``install_pacs(win, review)`` after ``setup_review``."""
    controller = PacsController(window, review, settings)
    window.destroyed.connect(lambda *_a: controller.close())
    return controller
