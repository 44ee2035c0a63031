"""Render the whole window (docks and the four VTK views) to a PNG, as a reader would see it.

    PYTHONPATH=$PWD .venv/bin/python scripts/window_screenshot.py ../shared/data/lidc/LIDC-IDRI-0001 \
        --out resources/screenshots/findings-list.png [--size 1600x1000] [--db store.db]

Opens the scan with the review (a store in a temporary folder unless ``--db``) and the detection
worker, waits until the findings are stored and the first one is selected, then grabs the Qt
widgets with QWidget.grab and pastes each VTK view's own pixels (vtkWindowToImageFilter) over its
place, since QWidget.grab does not see OpenGL views.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QApplication

    from viewer.main_window import MainWindow


def _wait(app: QApplication, done: Callable[[], bool], timeout_s: float) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        app.processEvents()
        if done():
            return True
        time.sleep(0.02)
    return False


def grab_window(win: MainWindow) -> QImage:
    """The window as a QImage with the VTK views' pixels painted in."""
    import numpy as np
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QImage, QPainter

    from viewer.scene.capture import grab

    image = win.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    painter = QPainter(image)
    ratio = image.devicePixelRatio()
    for name in ("axial", "coronal", "sagittal", "3d"):
        w = win.view_widget(name)
        if not w.isVisible():
            continue
        pixels = np.ascontiguousarray(grab(w.GetRenderWindow()))
        h, wd, _ = pixels.shape
        view = QImage(pixels.data, wd, h, 3 * wd, QImage.Format.Format_RGB888).copy()
        pos = w.mapTo(win, QPoint(0, 0))
        painter.drawImage(QPoint(int(pos.x() * ratio), int(pos.y() * ratio)),
                          view.scaled(int(w.width() * ratio), int(w.height() * ratio)))
    painter.end()
    return image


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("scan")
    p.add_argument("--out", required=True)
    p.add_argument("--size", default="1600x1000")
    p.add_argument("--db", default=None)
    p.add_argument("--timeout", type=float, default=600.0)
    args = p.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

    from viewer.app import install_features, make_app
    from viewer.main_window import MainWindow
    from viewer.review.settings import JsonBackend, ReviewSettings
    from viewer.review.store import Store
    from viewer.controllers.review_setup import install_review

    app = make_app([sys.argv[0]])
    tmp = Path(tempfile.mkdtemp(prefix="nodulelens-shot-"))
    store = Store(args.db or tmp / "store.db")
    settings = ReviewSettings(JsonBackend(tmp / "settings.json"))
    settings.set_reviewer("Dr Screenshot")
    win = MainWindow()
    win.resize(width, height)
    win.show()
    review = install_review(win, store, settings)
    detection = install_features(win, review)
    win.open_path(args.scan)
    try:
        ok = _wait(app, lambda: review.session is not None and review.selected is not None
                   and not detection.runner.is_running(), args.timeout)
        if not ok:
            print("no finding to show within the time limit", file=sys.stderr)
            return 1
        _wait(app, lambda: False, 3.0)  # the 3D view's full-quality frame and the saliency
        image = grab_window(win)
        image.save(args.out)
        n = len(review.session.findings) if review.session is not None else 0
        print(f"{args.out}: {image.width()}x{image.height()}, {n} finding(s)")
        return 0
    finally:
        detection.runner.shutdown()
        win.close()
        store.close()


if __name__ == "__main__":
    raise SystemExit(main())
