"""LUNA16-style CSV files: AI candidates for evaluation, and the reviewed nodules as annotations.

- ``candidates``: ``seriesuid,coordX,coordY,coordZ,probability``, one row per AI finding whatever
  the reviewer decided (the detector's output, for FROC/CPM evaluation).
- ``reviewed``: ``seriesuid,coordX,coordY,coordZ,diameter_mm``, one row per accepted AI finding
  and per reviewer-added finding, in the layout of LUNA16's annotations.csv, so that reviewed
  studies can serve as reference annotations.

Coordinates are world LPS mm (the frame of DICOM ImagePositionPatient), as in LUNA16.
``diameter_mm`` is the segmented mean diameter when measured, else the finding's diameter, else the
mean edge of its box.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from inference.domain.finding import Finding, FindingSource
from viewer.export.plan import reported_states
from viewer.review.model import ReviewedStudy

CANDIDATES_HEADER = ("seriesuid", "coordX", "coordY", "coordZ", "probability")
REVIEWED_HEADER = ("seriesuid", "coordX", "coordY", "coordZ", "diameter_mm")


def diameter_of(finding: Finding) -> float:
    m = getattr(finding.analysis, "measurement", None)
    if m is not None and m.mean_diameter_mm > 0:
        return float(m.mean_diameter_mm)
    if finding.diameter_mm:
        return float(finding.diameter_mm)
    return float(sum(finding.box.size) / 3)


def candidate_rows(study: ReviewedStudy, series_uid: str | None = None) -> list[tuple]:
    uid = series_uid or study.series_instance_uid
    return [(uid, *_xyz(s.finding), f"{s.finding.score:.6f}") for s in study.findings
            if s.finding.source is FindingSource.AI]


def reviewed_rows(study: ReviewedStudy, series_uid: str | None = None) -> list[tuple]:
    uid = series_uid or study.series_instance_uid
    return [(uid, *_xyz(s.finding), f"{diameter_of(s.finding):.2f}") for s in reported_states(study)]


def write_csv(path: str | Path, rows: Iterable[tuple], reviewed: bool) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(REVIEWED_HEADER if reviewed else CANDIDATES_HEADER)
        writer.writerows(rows)
    return path


def _xyz(f: Finding) -> tuple[str, str, str]:
    x, y, z = f.center
    return f"{x:.3f}", f"{y:.3f}", f"{z:.3f}"
