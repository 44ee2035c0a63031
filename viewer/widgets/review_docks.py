"""One call wires the review workflow into the main window: ``install_review(window, store, settings)``.

Adds the Review and Worklist docks, the Review menu with its shortcuts (see
:data:`viewer.widgets.review_dialogs.SHORTCUTS`), the help overlay and the status-bar text, all
through the window's public API. The review keys R, N and P replace the window's own bindings of
those keys (3D camera reset and next/previous finding), which move to Shift+R, Shift+N, Shift+P.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

from viewer.review.settings import ReviewSettings
from viewer.review.store import Store
from viewer.widgets.review_controller import ReviewController

#: window actions whose keys the review takes over → their new keys
MOVED_KEYS = {"reset_3d": "Shift+R", "next_finding": "Shift+N", "previous_finding": "Shift+P"}


def install_review(window: Any, store: Store, settings: ReviewSettings) -> ReviewController:
    for name, key in MOVED_KEYS.items():
        action = getattr(window, "actions_by_name", {}).get(name)
        if action is not None:
            action.setShortcut(QKeySequence(key))
    c = ReviewController(window, store, settings)
    window.add_dock(c.worklist, "Worklist", Qt.DockWidgetArea.LeftDockWidgetArea)
    window.add_dock(c.panel, "Review", Qt.DockWidgetArea.RightDockWidgetArea)
    window.statusBar().addPermanentWidget(c.status_label)

    acts: dict[str, QAction] = {}

    def add(name: str, text: str, keys: str | list[str] | None, slot, menu: str = "&Review",
            checkable: bool = False) -> QAction:
        a = QAction(text, window)
        if keys:
            a.setShortcuts([QKeySequence(k) for k in ([keys] if isinstance(keys, str) else keys)])
        a.setCheckable(checkable)
        if checkable:
            a.toggled.connect(slot)
        else:
            a.triggered.connect(lambda _checked=False: slot())
        window.add_action(menu, a)
        acts[name] = a
        return a

    add("accept", "Accept", "A", c.accept)
    add("reject", "Reject…", "R", c.reject)
    add("edit", "Edit box…", "E", c.edit)
    add("add_here", "Add nodule at crosshair", "I", c.add_here)
    add("add_tool", "Add-nodule tool", "D", c.set_add_tool, checkable=True)
    add("comment", "Comment…", "C", c.comment)
    add("next_undecided", "Next undecided", "N", lambda: c.step_undecided(1))
    add("previous_undecided", "Previous undecided", "P", lambda: c.step_undecided(-1))
    add("undo", "Undo", "Ctrl+Z", c.undo)
    add("redo", "Redo", "Ctrl+Shift+Z", c.redo)
    add("sign_off", "Sign off", "Ctrl+Return", c.sign_off)
    add("reopen", "Reopen", None, c.reopen)
    add("next_study", "Next study", "Ctrl+Shift+N", c.next_study)
    add("help", "Shortcuts", ["F1", "?"], c.help.toggle, menu="&Help")
    add("reviewer", "Change reviewer…", None, lambda: _change_reviewer(c), menu="&Help")
    c.panel.bind(acts)
    c.actions = acts  # type: ignore[attr-defined]
    return c


def _change_reviewer(c: ReviewController) -> None:
    from viewer.widgets.reviewer_dialog import ReviewerDialog

    dialog = ReviewerDialog(c.settings.reviewer, c.window)
    if dialog.exec():
        c.settings.set_reviewer(dialog.name)
        if c.session is not None:
            c.session.reviewer = c.settings.reviewer
        c.update_status()


def setup_review(window: Any, db: str | None = None) -> ReviewController | None:
    """For the app: settings from QSettings, the first-run reviewer prompt, the store (``--db``,
    NODULELENS_DB, settings, user data folder) and :func:`install_review`. A store that cannot be
    opened is shown as an error and the viewer runs without the review (returns None)."""
    from viewer.review.errors import ReviewError
    from viewer.review.settings import default_store_path
    from viewer.widgets.reviewer_dialog import ensure_reviewer, qt_settings

    settings = qt_settings()
    ensure_reviewer(settings, window)
    try:
        store = Store(default_store_path(db, settings))
    except ReviewError as exc:
        window.show_error(exc)
        return None
    return install_review(window, store, settings)
