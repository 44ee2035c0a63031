"""Measuring a reviewer's box: the default box around a clicked centre and the measurement through
:func:`inference.nodules.analyze` (used by :class:`viewer.review.session.ReviewSession`). Qt-free."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from inference.domain.finding import Box3D, Point

#: size of the box put around a clicked centre before the nodule is measured (mm)
DEFAULT_ADD_SIZE_MM = 10.0

Measured = tuple[Any, "float | None"]  # (analysis, mean diameter mm)
Measure = Callable[[Point, Box3D | None], Measured]


def add_box(box: Box3D | None, center: Point | None) -> Box3D:
    """The box of an added nodule: the drawn one, or a default box around a clicked centre."""
    if box is not None and center is None:
        return box
    if center is not None and box is None:
        return Box3D.around(center, DEFAULT_ADD_SIZE_MM)
    raise ValueError("add() needs either a box or a centre")


def default_measure(volume: Any) -> Measure | None:
    """Measurement through :func:`inference.nodules.analyze` when it and a volume are available."""
    if volume is None:
        return None
    from inference.imaging.lung_mask import lung_mask
    from inference.nodules import AnalysisError, analyze

    lungs: list = []
    lock = threading.Lock()

    def measure(center: Point, box: Box3D | None) -> tuple[Any, float | None]:
        with lock:  # one lung mask per scan (seconds on a full scan), then reused
            if not lungs:
                lungs.append(lung_mask(volume))
        try:
            result = analyze(volume, center, box=box, lung_mask=lungs[0])
        except AnalysisError:
            return None, None  # the reviewer's box stands; it is shown unmeasured
        result = getattr(result, "analysis", result)
        m = getattr(result, "measurement", None)
        d = getattr(m, "mean_diameter_mm", None)
        return result, float(d) if d is not None else None
    return measure
