"""Plain dict / JSON form of a nodule analysis: every key names its value and unit."""

from __future__ import annotations

from .types import Growth, LungRads, Measurement, NoduleAnalysis, NoduleType, Side, Zone


def to_json_dict(analysis: NoduleAnalysis) -> dict:
    """JSON-ready dict; sizes in mm / mm3, densities in HU, risk as 0..1 and as percent."""
    m = analysis.measurement
    risk = analysis.malignancy_risk
    return {
        "long_axis_mm": m.long_axis_mm,
        "short_axis_mm": m.short_axis_mm,
        "mean_diameter_mm": m.mean_diameter_mm,
        "max_3d_diameter_mm": m.max_3d_diameter_mm,
        "volume_mm3": m.volume_mm3,
        "mean_hu": m.mean_hu,
        "max_hu": m.max_hu,
        "solid_component_mean_diameter_mm": m.solid_component_mm,
        "long_axis_endpoints_lps_mm": [list(p) for p in m.long_axis_lps] if m.long_axis_lps else None,
        "short_axis_endpoints_lps_mm": [list(p) for p in m.short_axis_lps] if m.short_axis_lps else None,
        "nodule_type": analysis.nodule_type.value,
        "calcified": analysis.calcified,
        "juxta_pleural": analysis.juxta_pleural,
        "side": analysis.side.value if analysis.side else None,
        "zone": analysis.zone.value if analysis.zone else None,
        "location_note": analysis.location_note,
        "malignancy_risk_probability": risk,
        "malignancy_risk_percent": None if risk is None else round(100.0 * risk, 2),
        "malignancy_risk_model": "Brock (PanCan) full model with spiculation, McWilliams 2013",
        "risk_defaults_used": list(analysis.risk_defaults_used),
        "lung_rads_v2022_category": analysis.lung_rads.value,
        "lung_rads_reason": analysis.lung_rads_reason,
        "management": analysis.management,
        "growth": analysis.growth.value,
        "nodule_count": analysis.nodule_count,
    }


def _pair(v):
    return None if v is None else tuple(tuple(float(c) for c in p) for p in v)


def from_json_dict(data: dict) -> NoduleAnalysis:
    """Inverse of :func:`to_json_dict` (for findings files)."""
    m = Measurement(
        long_axis_mm=data["long_axis_mm"], short_axis_mm=data["short_axis_mm"],
        mean_diameter_mm=data["mean_diameter_mm"], max_3d_diameter_mm=data["max_3d_diameter_mm"],
        volume_mm3=data["volume_mm3"], mean_hu=data["mean_hu"], max_hu=data["max_hu"],
        solid_component_mm=data.get("solid_component_mean_diameter_mm"),
        long_axis_lps=_pair(data.get("long_axis_endpoints_lps_mm")),
        short_axis_lps=_pair(data.get("short_axis_endpoints_lps_mm")))
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
        growth=Growth(data.get("growth", "baseline")))
