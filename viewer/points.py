"""World points as plain float triples (numpy only, no Qt or VTK): used by the scene, the review
model and the exports, which all hand points to the frozen domain types."""

from __future__ import annotations

import numpy as np

Point = tuple[float, float, float]


def as_point(values: object) -> Point:
    """Three numbers (a sequence or a numpy array of 3) as a world point of plain floats."""
    x, y, z = (float(v) for v in np.asarray(values, dtype=np.float64).reshape(3))
    return (x, y, z)
