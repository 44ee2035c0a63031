"""Detection at a reader's operating point, keeping the candidates just below it.

A detector's ``detect`` returns the findings at or above the model card's operating threshold.
For a live operating point the worker instead keeps every candidate down to a floor (the card's
``operating_points.floor``; the lowest point the reader can choose), at most ``MAX_BELOW`` of them
below the point, numbered by score like ``detect`` numbers its findings (F001 = highest), so the
findings at or above the point are the same F001..Fk either way. Whether a finding is below the
point is then a matter of its score against the threshold in the reply: nothing is marked on the
finding itself. Torch-free (the detector does the work).
"""

from __future__ import annotations

from typing import Any, Callable

from inference.domain.finding import Finding
from inference.imaging.volume import Volume

#: at most this many candidates below the operating point are kept (the card's floor is about
#: 2 false positives per scan on held-out phantoms, 8 on synthetic chests: a few dozen at most)
MAX_BELOW = 30


def detect_at(detector: Any, volume: Volume, threshold: float | None, floor: float | None,
              progress: Callable[..., None] | None = None,
              cancelled: Callable[[], bool] | None = None) -> tuple[list[Finding], float]:
    """(findings highest score first, the threshold used). ``threshold`` None = the card's."""
    point = float(detector.threshold if threshold is None else threshold)
    keep_from = point if floor is None else min(point, float(floor))
    candidates = getattr(detector, "candidates", None)
    if keep_from >= float(detector.threshold):
        found = list(detector.detect(volume, progress=progress, cancelled=cancelled))
    elif candidates is not None:
        found = list(candidates(volume, progress, cancelled))
    else:  # a detector that only filters inside detect (the MONAI bundle): lower its cut for this call
        card = detector.threshold
        detector.threshold = keep_from
        try:
            found = list(detector.detect(volume, progress=progress, cancelled=cancelled))
        finally:
            detector.threshold = card
    found = [f for f in found if f.score >= keep_from]
    found.sort(key=lambda f: -f.score)
    above = [f for f in found if f.score >= point]
    below = [f for f in found if f.score < point][:MAX_BELOW]
    return [f.evolve(finding_id=f"F{i + 1:03d}") for i, f in enumerate(above + below)], point
