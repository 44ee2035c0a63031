"""One call wires the review workflow into the main window: ``install_review(window, store, settings)``.

Adds the Worklist dock, the review's buttons and notices under the findings list, the Review menu,
the help overlay and the status-bar text, all through the window's public API. Keys are not set
here: the window's :class:`~viewer.key_bindings.KeyBinder` binds every named action from the key
map, which with the review installed moves the window's R / N / P to Shift+R / Shift+N / Shift+P,
and applies the ``[keys]`` overrides from ``settings``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

from viewer.keymap import KeyMap
from viewer.messages import Source
from viewer.review.settings import ReviewSettings
from viewer.review.store import Store
from viewer.controllers.review_controller import ReviewController

if TYPE_CHECKING:
    from viewer.main_window import MainWindow


def _review_actions(c: ReviewController) -> tuple[tuple[str, str, Callable[[], object], str], ...]:
    """(name, menu text, slot, menu) of every review action; the checkable add tool is separate."""
    return (
        ("accept", "Accept", c.accept, "&Review"),
        ("reject", "Reject…", c.reject, "&Review"),
        ("edit", "Edit box…", c.edit, "&Review"),
        ("add_here", "Add nodule at crosshair", c.add_here, "&Review"),
        ("comment", "Comment…", c.comment, "&Review"),
        ("next_undecided", "Next undecided", c.next_undecided, "&Review"),
        ("previous_undecided", "Previous undecided", c.previous_undecided, "&Review"),
        ("undo", "Undo", c.undo, "&Review"),
        ("redo", "Redo", c.redo, "&Review"),
        ("sign_off", "Sign off", c.sign_off, "&Review"),
        ("sign_off_without_ai", "Sign off without AI…", c.sign_off_without_ai, "&Review"),
        ("reopen", "Reopen", c.reopen, "&Review"),
        ("next_study", "Next study", c.next_study, "&Review"),
        ("help", "Shortcuts", c.help.toggle, "&Help"),
        ("reviewer", "Change reviewer…", c.change_reviewer, "&Help"),
    )


def install_review(window: MainWindow, store: Store, settings: ReviewSettings) -> ReviewController:
    c = ReviewController(window, store, settings)
    window.add_dock(c.worklist, "Worklist", Qt.DockWidgetArea.LeftDockWidgetArea)
    window.findings_list.add_section(c.panel)
    window.statusBar().addPermanentWidget(c.status_label)
    window.keys.set_keymap(KeyMap.from_settings(settings.backend.value))
    window.keys.use_review_keys()

    acts: dict[str, QAction] = {}
    for name, text, slot, menu in _review_actions(c):
        a = QAction(text, window)
        a.triggered.connect(slot)
        window.add_action(menu, a, name)
        acts[name] = a
    tool = QAction("Add-nodule tool", window)
    tool.setCheckable(True)
    tool.toggled.connect(c.set_add_tool)
    window.add_action("&Review", tool, "add_tool")
    acts["add_tool"] = tool
    c.panel.bind(acts)
    c.actions = acts
    for key, names in window.keys.conflicts().items():
        window.post_message(Source.SETTINGS, f"the key {key} is bound to {', '.join(names)}: none of them "
                            "works by key; change one in the [keys] section of the settings")
    return c


def setup_review(window: MainWindow, db: str | None = None) -> ReviewController | None:
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
