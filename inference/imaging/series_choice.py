"""Which of several series in a folder is most likely the axial CT series to review, and why."""

from __future__ import annotations

from collections.abc import Sequence

from inference.imaging.dicom_series import Orientation, SeriesCandidate
from inference.imaging.errors import NoDicomFound

#: thinnest slices we prefer; thinner ones are not better for nodule review
PREFERRED_THICKNESS_MM = 1.0


def _score(c: SeriesCandidate) -> tuple:
    thick = c.thickness_mm if c.thickness_mm else 10.0
    return (
        not c.is_localizer,
        c.modality == "CT",
        c.orientation is Orientation.AXIAL,
        c.slice_count >= 20,
        -abs(max(thick, PREFERRED_THICKNESS_MM) - PREFERRED_THICKNESS_MM),
        c.slice_count,
        c.uid,
    )


def choose_series(cands: Sequence[SeriesCandidate]) -> tuple[SeriesCandidate, str]:
    """The most likely axial CT series and a one-line reason for the series chooser."""
    if not cands:
        raise NoDicomFound("", "no series to choose from", "Open a folder that holds a CT series")
    best = max(cands, key=_score)
    others = [c for c in cands if c is not best]
    facts = [best.modality or "unknown modality", best.orientation.value, f"{best.slice_count} slices"]
    if best.thickness_mm:
        facts.append(f"{best.thickness_mm:g} mm slices")
    if not others:
        return best, "the only series: " + ", ".join(facts)
    why = []
    if best.modality == "CT" and any(c.modality != "CT" for c in others):
        why.append("the CT series")
    if best.orientation is Orientation.AXIAL and any(c.orientation is not Orientation.AXIAL for c in others):
        why.append("axial")
    if any(c.is_localizer for c in others):
        why.append("not a localizer")
    rivals = [c for c in others if _score(c)[:4] == _score(best)[:4]]
    if rivals:
        why.append("thinnest slices closest to 1 mm, then most slices")
    reason = "; ".join(why) if why else "best match"
    return best, f"{reason} among {len(cands)} series: " + ", ".join(facts)
