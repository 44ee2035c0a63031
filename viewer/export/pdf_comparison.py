"""The PDF report's comparison with the prior exam: one line per compared nodule (prior size and
date, size now, change, volume doubling time, Lung-RADS with comparison and its reason) and the
prior's nodules not found now. From the export plan (its ``followup`` and nodule comparisons).

De-identified reports give the interval in days instead of the prior's date.
"""

from __future__ import annotations

import re
from typing import Any

from viewer.export.plan import ExportPlan, PlannedNodule

_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def esc(text: object) -> str:
    """Text for reportlab's mini-markup (the header's and reasons' text is data)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def undated(text: str) -> str:
    return _ISO_DATE.sub("the prior", text)


def _da(value: str) -> str:
    return f"{value[:4]}-{value[4:6]}-{value[6:8]}" if len(value) >= 8 else value


def header_text(plan: ExportPlan, deidentified: bool) -> str:
    """The header's "Comparison" cell."""
    f = plan.followup
    dates = sorted({n.comparison.prior_study_date for n in plan.nodules if n.comparison is not None}
                   | ({f.prior_study_date} if f is not None else set()))
    if not dates:
        return "none (no prior exam compared)"
    if deidentified:
        days = sorted({n.comparison.result.interval_days for n in plan.nodules
                       if n.comparison is not None and n.comparison.result is not None})
        return "prior CT" + (f", {days[0]} days earlier" if days else "")
    return "prior of " + ", ".join(_da(d) for d in dates)


def nodule_line(n: PlannedNodule, deidentified: bool) -> str | None:
    c = n.comparison
    if c is None:
        return None
    r = c.result
    reason = undated(c.reason) if deidentified else c.reason
    if r is None or r.prior is None or r.current is None:
        text = f"Nodule {n.number}: {c.category.value}"
    else:
        when = f"{r.interval_days} days earlier" if deidentified else _da(c.prior_study_date)
        text = (f"Nodule {n.number}: {c.category.value}; {r.prior.mean_diameter_mm:.1f} mm ({when}) → "
                f"{r.current.mean_diameter_mm:.1f} mm")
        if r.diameter_change_mm is not None:
            text += f", {r.diameter_change_mm:+.1f} mm"
        if r.volume_change_pct is not None:
            text += f", volume {r.volume_change_pct:+.0f} %"
        if r.doubling_time_days is not None:
            text += f"; doubling time {r.doubling_time_days:.0f} days"
        elif r.doubling_time_note:
            note = r.doubling_time_note.removeprefix("not computable").lstrip(": ")
            text += f"; doubling time not computable ({note})"
    if c.lung_rads is not None:
        text += f"; Lung-RADS {c.lung_rads.value} with comparison"
    return esc(text + (f" — {reason}" if reason else ""))


def section(plan: ExportPlan, s: dict[str, Any], deidentified: bool) -> list[Any]:
    """Flowables of the comparison section (none for a baseline exam)."""
    from reportlab.platypus import Paragraph

    f = plan.followup
    if f is None:
        return []
    out: list[Any] = [Paragraph("Comparison with the prior CT", s["h"])]
    lines = [line for n in plan.nodules if (line := nodule_line(n, deidentified)) is not None]
    out += [Paragraph(line, s["p"]) for line in lines] or [Paragraph("No reported nodule was compared.", s["p"])]
    if f.resolved:
        gone = ", ".join(f"{esc(r.prior_key)} ({r.prior.mean_diameter_mm:.1f} mm)" if r.prior is not None
                         else esc(r.prior_key) for r in f.resolved)
        out.append(Paragraph(f"<b>Not found now (resolved):</b> {gone} — seen on the prior CT; "
                             "check that none was missed.", s["p"]))
    return out
