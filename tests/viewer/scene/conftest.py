"""Fixtures for scene tests: the small demo phantom and offscreen render windows on Xvfb."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def small_phantom():
    from inference.phantom import SMALL_SHAPE_ZYX, demo_phantom

    return demo_phantom(SMALL_SHAPE_ZYX)


@pytest.fixture()
def offscreen_scene():
    """A Scene over three 320x320 offscreen slice windows (and 3D when asked), rendered on grab."""
    from viewer.scene.capture import offscreen_window
    from viewer.scene.scene import Scene
    from viewer.scene.scheduler import ImmediateRenderer

    made = []

    def make(names=("axial", "coronal", "sagittal"), size=320):
        windows = {n: offscreen_window(size, size) for n in names}
        made.extend(windows.values())
        return Scene(windows, ImmediateRenderer())

    yield make
    for w in made:
        w.Finalize()
