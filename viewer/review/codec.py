"""JSON for what the store keeps as text: finding geometry and nodule-analysis results.

Analysis objects come from :mod:`inference.nodules` (frozen dataclasses and enums). They are
written as tagged JSON and rebuilt as the same types when those still exist; otherwise the
plain dict is kept so an old store stays readable. Arrays (segmentation masks) are not stored:
they are recomputed from the scan when needed.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
from enum import Enum
from typing import Any

import numpy as np
from viewer.points import as_point

from inference.detection.finding import Box3D, Finding, FindingSource

#: only types from these packages are rebuilt from JSON
_TRUSTED_PREFIXES = ("inference.",)


def geometry_json(finding: Finding) -> str:
    return json.dumps({"center": list(finding.center), "lo": list(finding.box.lo),
                       "hi": list(finding.box.hi)})


def parse_geometry(text: str) -> tuple[tuple[float, float, float], Box3D]:
    g = json.loads(text)
    return as_point(g["center"]), Box3D(as_point(g["lo"]), as_point(g["hi"]))


def to_jsonable(value: Any) -> Any:
    """Tagged, JSON-ready form of an analysis result (dataclasses, enums, tuples, numbers)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Enum):
        return {"__enum__": _qualname(type(value)), "value": to_jsonable(value.value)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)
                  if not isinstance(getattr(value, f.name), np.ndarray)}
        return {"__type__": _qualname(type(value)), "fields": fields}
    if isinstance(value, np.ndarray):
        return None
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return str(value)


def from_jsonable(value: Any) -> Any:
    """Inverse of :func:`to_jsonable`; unknown or changed types stay plain dicts / values."""
    if isinstance(value, list):
        return tuple(from_jsonable(v) for v in value)
    if not isinstance(value, dict):
        return value
    if "__enum__" in value:
        cls = _resolve(value["__enum__"])
        try:
            return cls(value["value"]) if cls is not None else value["value"]
        except ValueError:
            return value["value"]
    if "__type__" in value:
        fields = {k: from_jsonable(v) for k, v in value["fields"].items()}
        cls = _resolve(value["__type__"])
        if cls is not None and dataclasses.is_dataclass(cls):
            try:
                return cls(**fields)
            except (TypeError, ValueError):
                pass
        return fields
    return {k: from_jsonable(v) for k, v in value.items()}


def analysis_json(analysis: Any) -> str | None:
    return None if analysis is None else json.dumps(to_jsonable(analysis))


def parse_analysis(text: str | None) -> Any:
    return None if text is None else from_jsonable(json.loads(text))


def lung_rads_of(analysis: Any) -> str | None:
    """The Lung-RADS category value ("2", "4A", …) of an analysis result, if it has one."""
    v = _field(analysis, "lung_rads")
    if v is None:
        return None
    v = _field(v, "category") if not isinstance(v, (str, Enum)) and _field(v, "category") else v
    return str(v.value if isinstance(v, Enum) else v)


def risk_of(analysis: Any) -> float | None:
    """The malignancy risk (0..1) of an analysis result, if it has one."""
    for name in ("risk", "malignancy_risk", "brock_risk"):
        v = _field(analysis, name)
        if v is None:
            continue
        if not isinstance(v, (int, float)):
            v = _field(v, "probability") if _field(v, "probability") is not None else _field(v, "value")
        if isinstance(v, (int, float)):
            return float(v)
    return None


def lung_rads_rank(category: str | None) -> int:
    order = ["0", "1", "2", "3", "4A", "4B", "4X"]
    return order.index(category) if category in order else -1


def make_finding(finding_id: str, geometry: str, score: float, source: str,
                 diameter_mm: float | None, analysis: str | None) -> Finding:
    center, box = parse_geometry(geometry)
    return Finding(finding_id=finding_id, center=center, box=box, score=score,
                   source=FindingSource(source), diameter_mm=diameter_mm,
                   analysis=parse_analysis(analysis))


def _field(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _qualname(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _resolve(spec: str) -> type | None:
    module_name, _, name = spec.partition(":")
    if not module_name.startswith(_TRUSTED_PREFIXES):
        return None
    try:
        obj: Any = importlib.import_module(module_name)
        for part in name.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return None
    return obj if isinstance(obj, type) else None
