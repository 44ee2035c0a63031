"""JSON for what the store keeps as text: finding geometry and nodule analyses.

Analyses are written in the one versioned form of :mod:`inference.domain.analysis_codec` (no
Python class paths); stores written before the ``_V_CODEC`` migration are converted by it, and
append-only decision rows that still hold the legacy tagged form are read by the same codec.
Arrays (segmentation masks) are not stored: they are recomputed from the scan when needed.
"""

from __future__ import annotations

import json
from typing import Any

from inference.domain import analysis_codec
from inference.domain.finding import Box3D, Finding, FindingSource, Point
from inference.domain.nodule import NoduleAnalysis
from viewer.points import as_point

#: the one way every stored analysis is read and written
analysis_json = analysis_codec.to_json
parse_analysis = analysis_codec.from_json
upgrade_analysis_json = analysis_codec.upgrade_json


def geometry_json(finding: Finding) -> str:
    return json.dumps({"center": list(finding.center), "lo": list(finding.box.lo),
                       "hi": list(finding.box.hi)})


def parse_geometry(text: str) -> tuple[Point, Box3D]:
    g = json.loads(text)
    return as_point(g["center"]), Box3D(as_point(g["lo"]), as_point(g["hi"]))


def analysis_value(analysis: NoduleAnalysis | None) -> dict[str, Any] | None:
    """The JSON value of an analysis inside a decision's new/previous value."""
    return None if analysis is None else analysis_codec.to_dict(analysis)


def parse_analysis_value(value: Any) -> NoduleAnalysis | None:
    """Inverse of :func:`analysis_value` (also reads decision rows in the legacy tagged form)."""
    return None if value is None else analysis_codec.from_dict(value)


def make_finding(finding_id: str, geometry: str, score: float, source: str,
                 diameter_mm: float | None, analysis: str | None) -> Finding:
    center, box = parse_geometry(geometry)
    return Finding(finding_id=finding_id, center=center, box=box, score=score,
                   source=FindingSource(source), diameter_mm=diameter_mm,
                   analysis=parse_analysis(analysis))
