"""Fixtures for the Qt tests: the small demo phantom and a shown main window (real Xvfb)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def small_demo():
    from inference.phantom import SMALL_SHAPE_ZYX, demo_phantom

    return demo_phantom(SMALL_SHAPE_ZYX)


@pytest.fixture()
def window(qtbot):
    from viewer.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1000, 700)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
