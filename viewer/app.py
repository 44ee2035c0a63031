"""Starting the GUI: the QApplication, the style sheet, the main window."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

RESOURCES = Path(__file__).resolve().parents[1] / "resources"


def make_app(argv: list[str] | None = None):
    """The QApplication (created once), with the NoduleLens style sheet."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else sys.argv[:1])
        app.setApplicationName("NoduleLens")
        style = RESOURCES / "styles" / "dark.qss"
        if style.is_file():
            app.setStyleSheet(style.read_text(encoding="utf-8"))
        icon = RESOURCES / "icons" / "nodulelens.svg"
        if icon.is_file():
            from PySide6.QtGui import QIcon

            app.setWindowIcon(QIcon(str(icon)))
    return app


def run(path: str | None = None, series_uid: str | None = None, layout: str = "2x2",
        db: str | None = None, auto_detect: bool = True) -> int:
    """Show the main window on ``path`` (None: the demo phantom) with the review (store ``db``)
    and the detection worker, and run the event loop."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") and sys.platform.startswith("linux"):
        print("nodulelens: no display (DISPLAY is unset). Run it in a desktop session, or use "
              "`nodulelens snapshot PATH --out shot.png` to render offscreen.", file=sys.stderr)
        return 2
    app = make_app()
    from viewer.controllers.review_setup import setup_review
    from viewer.main_window import MainWindow

    win = MainWindow()
    win.set_layout(layout)
    win.show()
    review = setup_review(win, db)
    install_features(win, review, auto_detect=auto_detect)
    if path is None:
        win.open_demo()
    else:
        win.open_path(path, series_uid)
    return int(app.exec())


def install_features(win: Any, review: Any, *, auto_detect: bool = True) -> Any:
    """Everything the reading room adds to a window with its review (None: no store): the scan's
    warnings in the status bar, detection, export, saliency, the operating point, the patient panel,
    PACS and the follow-up comparison. Returns the detection controller (its runner is the worker)."""
    from viewer.controllers.detection import install_detection
    from viewer.controllers.export import install_export
    from viewer.controllers.load_warnings import install_load_warnings
    from viewer.widgets.followup_view import install_followup
    from viewer.widgets.operating_point import install_operating_point
    from viewer.widgets.pacs_actions import install_pacs
    from viewer.widgets.patient_docks import install_patient_panel
    from viewer.widgets.saliency_loader import install_saliency_loader

    detection = install_detection(win, review, auto=auto_detect)
    install_load_warnings(win, review.store if review is not None else None, detection)
    install_export(win, review)
    install_saliency_loader(win, review)
    install_operating_point(win, review)
    install_patient_panel(win, review)
    if review is not None:
        install_pacs(win, review)
        install_followup(win, review.store)
    return detection
