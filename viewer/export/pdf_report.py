"""The Lung-RADS report as a PDF (reportlab): for every PACS and for the referring physician.

One or two A4 pages: patient and exam, comparison, the exam's Lung-RADS category and management,
a table of the reported nodules (size, type, change, Lung-RADS, risk, AI score), key images (the
key slice with the box, the axes and the AI saliency), the model and its model-card figures, and
the reviewer's sign-off. Everything comes from the export plan, as the SR does.

With ``deidentified`` the patient block and people's names are left out (the PDF then goes
into a de-identified Encapsulated PDF).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pydicom.dataset import Dataset

from viewer.export import identity, pdf_comparison
from viewer.export.key_images import KeyImage, png_bytes
from viewer.export.plan import ExportPlan, PlannedNodule
from viewer.review.model import ReadMode
from viewer.review.sign_off import ReportState, is_signed, report_state, undecided_reported
from viewer.export.sr_groups import nodule_values

TITLE = "Low-dose CT lung cancer screening — Lung-RADS v2022 report"


@dataclass(frozen=True, slots=True, eq=False)
class ReportContext:
    """What the report shows besides the plan: the source CT header and the model card."""

    ct: Dataset  # a source slice header (patient, study, acquisition)
    n_slices: int
    model_card: Mapping[str, Any] | None = None  # first evaluation entry of the manifest
    intended_use: str = ""
    deidentified: bool = False
    generated_at: datetime | None = None


def build_pdf(plan: ExportPlan, context: ReportContext, images: Sequence[KeyImage]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate, Spacer

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=16 * mm, rightMargin=16 * mm, topMargin=14 * mm,
                            bottomMargin=16 * mm, title=TITLE, author="NoduleLens",
                            subject="Lung-RADS report")
    s = _styles()
    story: list[Any] = []
    story += _header(plan, context, s)
    story += _result(plan, s, context.deidentified)
    story += _nodule_table(plan, s)
    story += pdf_comparison.section(plan, s, context.deidentified)
    story.append(Spacer(1, 3 * mm))
    story += _key_images(images, s)
    story += _model_and_signoff(plan, context, s)
    footer = _footer(plan, context)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def _styles() -> dict[str, Any]:
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("t", parent=base["Title"], fontSize=14, leading=17, spaceAfter=2,
                                alignment=0),
        "h": ParagraphStyle("h", parent=base["Heading3"], fontSize=10.5, leading=13, spaceBefore=6,
                            spaceAfter=2, textColor=colors.HexColor("#1f3b5a")),
        "p": ParagraphStyle("p", parent=base["BodyText"], fontSize=8.8, leading=11),
        "small": ParagraphStyle("s", parent=base["BodyText"], fontSize=7.5, leading=9.2,
                                textColor=colors.HexColor("#444444")),
        "cell": ParagraphStyle("c", parent=base["BodyText"], fontSize=8, leading=9.6),
        "big": ParagraphStyle("b", parent=base["BodyText"], fontSize=12.5, leading=15.5),
    }


def _esc(text: object) -> str:
    """Header text is data: escape it for reportlab's mini-markup."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _date(value: str) -> str:
    v = str(value or "")
    return f"{v[:4]}-{v[4:6]}-{v[6:8]}" if len(v) >= 8 and v[:8].isdigit() else (v or "—")


def _grid(rows: list[list[Any]], widths: list[float], header: bool = False) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    t = Table(rows, colWidths=widths, hAlign="LEFT")
    style: list[tuple[Any, ...]] = [("VALIGN", (0, 0), (-1, -1), "TOP"), ("FONTSIZE", (0, 0), (-1, -1), 8),
             ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]
    if header:
        style += [("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dfe7ef")),
                  ("LINEBELOW", (0, 0), (-1, -1), 0.3, colors.HexColor("#9aa9b8"))]
    t.setStyle(TableStyle(style))
    return t


def _header(plan: ExportPlan, c: ReportContext, s: dict[str, Any]) -> list[Any]:
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph

    ct = c.ct
    study = plan.study
    if c.deidentified:
        patient = [["Patient", "de-identified", "Study date", "—"]]
    else:
        patient = [["Patient", _esc(str(ct.get("PatientName", "")) or "—"),
                    "Patient ID", _esc(ct.get("PatientID", "") or "—")],
                   ["Birth date / sex", f"{_date(ct.get('PatientBirthDate', ''))} / {ct.get('PatientSex', '') or '—'}",
                    "Study date", _date(ct.get("StudyDate", ""))],
                   ["Accession", _esc(ct.get("AccessionNumber", "") or "—"),
                    "Institution", _esc(study.institution or ct.get("InstitutionName", "") or "—")]]
    thickness = f"{float(ct.SliceThickness):g}" if ct.get("SliceThickness", "") not in ("", None) else ""
    exam = [["Exam", "Low-dose CT of chest (LOINC 24627-2)", "Series",
             f"{c.n_slices} axial slices, {thickness} mm" if thickness else f"{c.n_slices} axial slices"],
            ["Comparison", pdf_comparison.header_text(plan, c.deidentified), "kVp / kernel",
             f"{ct.get('KVP', '—')} / {_esc(ct.get('ConvolutionKernel', '—'))}"]]
    w = [28 * mm, 62 * mm, 26 * mm, 62 * mm]
    return [Paragraph(TITLE, s["title"]), _grid(patient + exam, w)]


def _result(plan: ExportPlan, s: dict[str, Any], deidentified: bool = False) -> list[Any]:
    from reportlab.platypus import Paragraph

    rads = plan.exam_lung_rads
    category = f"Lung-RADS {rads.value}" if rads is not None else "Lung-RADS not assessed"
    if plan.nodules:
        found = (f"{len(plan.nodules)} nodule(s) reported; {plan.ai_reviewed} AI finding(s) reviewed, "
                 f"{plan.ai_rejected} rejected by the reviewer.")
    else:
        found = (f"No lung nodule reported. {plan.ai_reviewed} AI finding(s) reviewed, "
                 f"{plan.ai_rejected} rejected by the reviewer.")
    out = [Paragraph("Result", s["h"]),
           Paragraph(f"<b>Exam category: {category}</b>", s["big"]),
           Paragraph(_esc(found), s["p"])]
    if plan.exam_lung_rads_reason:
        basis = plan.exam_lung_rads_reason
        if deidentified:  # a follow-up's reason names the prior's date
            basis = pdf_comparison.undated(basis)
        out.append(Paragraph("Basis: " + _esc(basis), s["p"]))
    if plan.management:
        out.append(Paragraph("<b>Management:</b> " + _esc(plan.management), s["p"]))
    return out


def _nodule_row(n: PlannedNodule, s: dict[str, Any]) -> list[Any]:
    from reportlab.platypus import Paragraph

    v = nodule_values(n)
    a = n.analysis
    side = getattr(getattr(a, "side", None), "value", "")
    zone = getattr(getattr(a, "zone", None), "value", "")
    kind = getattr(getattr(a, "nodule_type", None), "value", "—")
    size = (f"{v['long_axis_mm']:.1f} × {v['short_axis_mm']:.1f} (mean {v['mean_diameter_mm']:.1f})"
            if v["long_axis_mm"] is not None else "—")
    if kind == "part-solid" and v["solid_component_mm"] is not None:
        size += f"; solid {v['solid_component_mm']:.1f}"
    change = _change(n)
    source = "reviewer" if n.added_by_reviewer else "AI"
    risk = "—" if v["malignancy_risk_percent"] is None else f"{v['malignancy_risk_percent']:.1f} %"
    score = "—" if v["ai_score"] is None else f"{v['ai_score']:.2f}"
    rads = f"<b>{n.lung_rads.value}</b>" if n.lung_rads is not None else "—"
    cell = s["cell"]
    return [str(n.number), Paragraph(f"{_esc(n.finding_id)} ({source})", cell),
            Paragraph(_esc(f"{side} {zone}".strip() or "—"), cell), Paragraph(_esc(kind), cell),
            Paragraph(size, cell), "—" if v["volume_mm3"] is None else f"{v['volume_mm3']:.0f}",
            Paragraph(change, cell), Paragraph(rads, cell), risk, score]


def _change(n: PlannedNodule) -> str:
    c = n.comparison
    if c is None:
        return "—"
    text = c.category.value
    if c.change_mm is not None:
        text += f", {c.change_mm:+.1f} mm"
    if c.volume_doubling_days:
        text += f", VDT {c.volume_doubling_days:.0f} d"
    return _esc(text)


def _management(n: PlannedNodule) -> str:
    """The nodule's management: with comparison (stepped from the prior's category) where compared."""
    if n.comparison is not None and n.comparison.management:
        return n.comparison.management
    return str(getattr(n.analysis, "management", "") or "")


def _nodule_table(plan: ExportPlan, s: dict[str, Any]) -> list[Any]:
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph

    out: list[Any] = [Paragraph("Nodules", s["h"])]
    if not plan.nodules:
        return out + [Paragraph("None.", s["p"])]
    head = ["#", "Finding", "Location", "Type", "Size mm (long × short)", "Vol. mm³", "Change",
            "Lung-RADS", "Risk", "AI score"]
    rows = [head] + [_nodule_row(n, s) for n in plan.nodules]
    widths = [6 * mm, 20 * mm, 21 * mm, 17 * mm, 34 * mm, 14 * mm, 18 * mm, 18 * mm, 14 * mm, 16 * mm]
    notes = [Paragraph("Risk: Brock (PanCan) probability of malignancy. AI score: detector confidence "
                       "0–1 (none for nodules the reviewer added). Change: comparison with the prior "
                       "exam (— when none was compared).", s["small"])]
    management = [Paragraph(f"Nodule {n.number}: {_esc(text)}", s["small"])
                  for n in plan.nodules if (text := _management(n))]
    return out + [_grid(rows, widths, header=True)] + notes + management


def _key_images(images: Sequence[KeyImage], s: dict[str, Any]) -> list[Any]:
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, Paragraph, Table

    if not images:
        return []
    side = 62 * mm
    cells = []
    for k in images:
        img = Image(io.BytesIO(png_bytes(k)), width=side, height=side)
        what = ("reviewer-added" if k.nodule.added_by_reviewer
                else "no saliency map on this slice" if k.saliency_method is None else "saliency on top")
        cells.append([img, Paragraph(_esc(k.caption) + " — box, long (solid) and short (dashed) axis, "
                                     + what, s["small"])])
    stacks: list[Any] = [_stack(cell) for cell in cells]
    if len(stacks) % 2:
        stacks.append("")
    table = Table([stacks[i:i + 2] for i in range(0, len(stacks), 2)], colWidths=[88 * mm, 88 * mm],
                  hAlign="LEFT")
    return [Paragraph("Key images (lung window)", s["h"]), table]


def _stack(cell: list[Any]) -> Any:
    from reportlab.platypus import Table

    return Table([[c] for c in cell])


def _model_and_signoff(plan: ExportPlan, c: ReportContext, s: dict[str, Any]) -> list[Any]:
    from reportlab.platypus import Paragraph

    study = plan.study
    m = study.model
    out: list[Any] = [Paragraph("AI model", s["h"])]
    if m is None:
        out.append(Paragraph("No AI model information recorded.", s["p"]))
    else:
        out.append(Paragraph(_esc(f"{m.name or m.model_id} ({m.model_id} {m.version}), manifest "
                                  f"sha256 {m.manifest_sha256[:16]}…, operating threshold "
                                  f"{m.operating_threshold if m.operating_threshold is not None else '—'}"),
                             s["p"]))
        card = c.model_card
        if card:
            sens = card.get("sensitivity_at_operating_point")
            fps = card.get("fps_per_scan_at_operating_point")
            out.append(Paragraph(_esc(
                f"Model card: CPM {card.get('cpm', '—')}; sensitivity {sens} at {fps} false positives "
                f"per scan (operating point); {card.get('n_nodules', '?')} nodules in "
                f"{card.get('n_scans', '?')} scans: {card.get('data', '')}"), s["small"]))
        else:
            out.append(Paragraph("Model card not available on this workstation.", s["small"]))
        if c.intended_use:
            out.append(Paragraph("Intended use: " + _esc(c.intended_use), s["small"]))
    out.append(Paragraph("Review and sign-off", s["h"]))
    left = undecided_reported(study)
    if report_state(study) is ReportState.FINAL and study.signed_off_at is not None:
        who = "the reviewing radiologist" if c.deidentified else _esc(display_name(study.signed_off_by))
        at = study.signed_off_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        when = "" if c.deidentified else f" on {at}"  # dates go, as in the de-identified SR
        if study.read_mode is ReadMode.WITHOUT_AI:
            out.append(Paragraph(f"Signed off by <b>{who}</b>{when}, <b>read WITHOUT AI</b>; reason: "
                                 f"{_esc(study.read_without_ai_reason)}.", s["p"]))
        else:
            out.append(Paragraph(f"Reviewed and signed off by <b>{who}</b>{when}. Every AI finding was "
                                 "accepted, edited or rejected by the reviewer.", s["p"]))
    elif is_signed(study):
        out.append(Paragraph(f"<b>PRELIMINARY — signed off, but {len(left)} finding(s) are undecided "
                             f"({_esc(', '.join(left))}).</b> The study must be reviewed again.", s["p"]))
    else:
        who = "the reviewer" if c.deidentified else _esc(display_name(study.reviewer) or "—")
        out.append(Paragraph(f"<b>PRELIMINARY — not signed off.</b> Reviewer: {who}.", s["p"]))
    return out


def display_name(name: str) -> str:
    """A name for people to read: "Doe^Jane^^Dr." → "Dr. Jane Doe"; free text as typed."""
    if "^" not in name:
        return name
    parts = (name.split("^") + ["", "", "", ""])[:4]
    family, given, middle, prefix = parts
    return " ".join(p for p in (prefix, given, middle, family) if p)


def _footer(plan: ExportPlan, c: ReportContext) -> Any:
    from reportlab.lib.units import mm

    at = (c.generated_at or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    text = (f"NoduleLens {identity.software_version()} — generated {at} — decision support; the "
            "signed report of the radiologist is the clinical record")

    def draw(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(16 * mm, 9 * mm, text)
        canvas.drawRightString(doc.pagesize[0] - 16 * mm, 9 * mm, f"page {doc.page}")
        canvas.restoreState()

    return draw
