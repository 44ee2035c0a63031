"""The one serialised form of a nodule analysis, versioned, for every place that writes one.

The review store (SQLite text column), the findings file and ``nodulelens measure --json`` keep
:func:`to_dict`'s document; the JSON export's ``analysis`` object is :func:`export_view` of the
same document (its layout is fixed by ``resources/schemas/export-v1.json``). Every key names its
value and unit; no Python class path is ever written, so renaming a class cannot change what a
stored analysis reads back as.

Versions :func:`from_dict` reads:

* **1** (``{"schema": "nodulelens.analysis", "version": 1, ...}``), what :func:`to_dict` writes;
  the same keys without ``schema``/``version`` are what findings files held before the version
  was written, and read as version 1.
* **tagged** (legacy): what the review store wrote before its ``_V_CODEC`` migration, dataclass
  fields under ``{"__type__": "<module>:<class>", "fields": {...}}`` and enums as
  ``{"__enum__": ..., "value": ...}``. It is read by field name; the class paths are ignored,
  never imported. Decision rows (append-only) may still hold it.

Torch-free, Qt-free: part of :mod:`inference.domain`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from inference.domain.nodule import Growth, LungRads, Measurement, NoduleAnalysis, NoduleType, Side, Zone

SCHEMA = "nodulelens.analysis"
VERSION = 1
RISK_MODEL = "Brock (PanCan) full model with spiculation, McWilliams 2013"

Pair = tuple[tuple[float, float, float], tuple[float, float, float]]


class AnalysisFormatError(ValueError):
    """A serialised analysis this program cannot read (unknown version, missing or bad fields)."""


def to_dict(analysis: NoduleAnalysis) -> dict[str, Any]:
    """JSON-ready, versioned dict; sizes in mm / mm3, densities in HU, risk as 0..1 and as percent."""
    m = analysis.measurement
    risk = analysis.malignancy_risk
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "long_axis_mm": m.long_axis_mm,
        "short_axis_mm": m.short_axis_mm,
        "mean_diameter_mm": m.mean_diameter_mm,
        "max_3d_diameter_mm": m.max_3d_diameter_mm,
        "volume_mm3": m.volume_mm3,
        "mean_hu": m.mean_hu,
        "max_hu": m.max_hu,
        "solid_component_mean_diameter_mm": m.solid_component_mm,
        "long_axis_endpoints_lps_mm": _pair_out(m.long_axis_lps),
        "short_axis_endpoints_lps_mm": _pair_out(m.short_axis_lps),
        "nodule_type": analysis.nodule_type.value,
        "calcified": analysis.calcified,
        "juxta_pleural": analysis.juxta_pleural,
        "side": analysis.side.value if analysis.side else None,
        "zone": analysis.zone.value if analysis.zone else None,
        "location_note": analysis.location_note,
        "malignancy_risk_probability": risk,
        "malignancy_risk_percent": None if risk is None else round(100.0 * risk, 2),
        "malignancy_risk_model": RISK_MODEL,
        "risk_defaults_used": list(analysis.risk_defaults_used),
        "lung_rads_v2022_category": analysis.lung_rads.value,
        "lung_rads_reason": analysis.lung_rads_reason,
        "management": analysis.management,
        "growth": analysis.growth.value,
        "nodule_count": analysis.nodule_count,
    }


def from_dict(data: Mapping[str, Any]) -> NoduleAnalysis:
    """The analysis a :func:`to_dict` document (any version listed above) describes."""
    if not isinstance(data, Mapping):
        raise AnalysisFormatError(f"an analysis must be a JSON object, got {type(data).__name__}")
    if "__type__" in data:
        return _from_tagged(data)
    if data.get("schema", SCHEMA) != SCHEMA or data.get("version", VERSION) != VERSION:
        raise AnalysisFormatError(f"analysis format {data.get('schema')!r} version {data.get('version')!r}; "
                                  f"this program reads {SCHEMA!r} version {VERSION}")
    try:
        m = Measurement(
            long_axis_mm=data["long_axis_mm"], short_axis_mm=data["short_axis_mm"],
            mean_diameter_mm=data["mean_diameter_mm"], max_3d_diameter_mm=data["max_3d_diameter_mm"],
            volume_mm3=data["volume_mm3"], mean_hu=data["mean_hu"], max_hu=data["max_hu"],
            solid_component_mm=data.get("solid_component_mean_diameter_mm"),
            long_axis_lps=_pair_in(data.get("long_axis_endpoints_lps_mm")),
            short_axis_lps=_pair_in(data.get("short_axis_endpoints_lps_mm")))
        return NoduleAnalysis(
            measurement=m, nodule_type=NoduleType(data["nodule_type"]), calcified=data["calcified"],
            juxta_pleural=data["juxta_pleural"],
            side=Side(data["side"]) if data.get("side") else None,
            zone=Zone(data["zone"]) if data.get("zone") else None,
            location_note=data.get("location_note", ""),
            malignancy_risk=data.get("malignancy_risk_probability"),
            risk_defaults_used=tuple(data.get("risk_defaults_used", ())),
            lung_rads=LungRads(data["lung_rads_v2022_category"]),
            lung_rads_reason=data.get("lung_rads_reason", ""), management=data.get("management", ""),
            nodule_count=int(data.get("nodule_count", 1)),
            growth=Growth(data.get("growth", Growth.BASELINE.value)))
    except (KeyError, TypeError, ValueError) as exc:
        raise AnalysisFormatError(f"analysis version {VERSION} with a missing or bad field ({exc!r})") from exc


def to_json(analysis: NoduleAnalysis | None) -> str | None:
    """:func:`to_dict` as JSON text (``None`` stays ``None``): the store's column value."""
    return None if analysis is None else json.dumps(to_dict(analysis))


def from_json(text: str | None) -> NoduleAnalysis | None:
    """Inverse of :func:`to_json`; raises :class:`AnalysisFormatError` for text it cannot read."""
    if text is None:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AnalysisFormatError(f"analysis is not JSON ({exc.msg})") from exc
    return None if data is None else from_dict(data)


def upgrade_json(text: str | None) -> str | None:
    """Stored analysis text of any readable version rewritten as the current version (the store's
    migration); text it cannot read is returned unchanged, so nothing is lost."""
    try:
        return to_json(from_json(text))
    except AnalysisFormatError:
        return text


def export_view(analysis: NoduleAnalysis) -> dict[str, Any]:
    """The ``analysis`` object of the JSON export (layout of ``resources/schemas/export-v1.json``),
    rearranged from :func:`to_dict`'s document."""
    d = to_dict(analysis)
    return {
        "measurement": {
            **{k: d[k] for k in ("long_axis_mm", "short_axis_mm", "mean_diameter_mm", "max_3d_diameter_mm",
                                 "volume_mm3", "mean_hu", "max_hu")},
            "solid_component_mm": d["solid_component_mean_diameter_mm"],
        },
        **{k: d[k] for k in ("nodule_type", "calcified", "juxta_pleural", "side", "zone")},
        "malignancy_risk": d["malignancy_risk_probability"],
        "lung_rads": d["lung_rads_v2022_category"],
        "lung_rads_reason": d["lung_rads_reason"],
        "management": d["management"],
        "growth": d["growth"],
    }


# -- helpers ----------------------------------------------------------------------------------
def _pair_out(pair: Pair | None) -> list[list[float]] | None:
    return None if pair is None else [list(p) for p in pair]


def _pair_in(value: Any) -> Pair | None:
    if value is None:
        return None
    a, b = (tuple(float(c) for c in p) for p in value)
    if len(a) != 3 or len(b) != 3 or not all(math.isfinite(c) for c in a + b):
        raise AnalysisFormatError(f"axis endpoints must be two finite 3D points, got {value!r}")
    return (a[0], a[1], a[2]), (b[0], b[1], b[2])


def _untag(value: Any) -> Any:
    """Legacy tagged JSON → plain values: enums → their value, dataclasses → field dicts."""
    if isinstance(value, list):
        return [_untag(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__enum__" in value:
        return value.get("value")
    if "__type__" in value:
        return {k: _untag(v) for k, v in dict(value.get("fields") or {}).items()}
    return {k: _untag(v) for k, v in value.items()}


def _from_tagged(data: Mapping[str, Any]) -> NoduleAnalysis:
    """A legacy store value (dataclass field names) read into version 1's keys."""
    if not str(data.get("__type__", "")).endswith(":NoduleAnalysis"):
        raise AnalysisFormatError(f"stored value of type {data.get('__type__')!r} is not a nodule analysis")
    f = _untag(data)
    m = f.get("measurement")
    if not isinstance(m, dict):
        raise AnalysisFormatError("legacy stored analysis without its measurement")
    v1 = {
        **{k: m.get(k) for k in ("long_axis_mm", "short_axis_mm", "mean_diameter_mm", "max_3d_diameter_mm",
                                 "volume_mm3", "mean_hu", "max_hu")},
        "solid_component_mean_diameter_mm": m.get("solid_component_mm"),
        "long_axis_endpoints_lps_mm": m.get("long_axis_lps"),
        "short_axis_endpoints_lps_mm": m.get("short_axis_lps"),
        **{k: f.get(k) for k in ("nodule_type", "calcified", "juxta_pleural", "side", "zone")},
        "location_note": f.get("location_note") or "",
        "malignancy_risk_probability": f.get("malignancy_risk"),
        "risk_defaults_used": f.get("risk_defaults_used") or [],
        "lung_rads_v2022_category": f.get("lung_rads"),
        "lung_rads_reason": f.get("lung_rads_reason") or "",
        "management": f.get("management") or "",
        "growth": f.get("growth") or Growth.BASELINE.value,
        "nodule_count": f.get("nodule_count") or 1,
    }
    return from_dict(v1)
