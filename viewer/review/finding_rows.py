"""What the findings list and the finding card show, as plain data (Qt-free, testable alone).

:func:`rows_for_study` (review) and :func:`rows_for_findings` (a window without a store) give one
:class:`FindingRow` per finding; a row's ``change`` versus the prior exam is supplied by whoever
knows it (``changes={finding_id: "+2.1 mm"}``) and is empty otherwise. :func:`card_for` gives the
lines of the finding card: measurements, type, Lung-RADS with its reason, risk with its inputs,
the model's score and operating point.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from inference.domain.finding import Finding, FindingSource, ModelInfo
from inference.domain.nodule import LungRads, NoduleAnalysis
from viewer.review.model import FindingState, FindingStatus, ReviewedStudy

COLUMNS: tuple[str, ...] = ("ID", "Status", "Type", "Size", "Change", "Lung-RADS", "Risk", "Score")
NONE = "—"


def _attr(obj: object, name: str) -> object:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _text(value: object) -> str | None:
    if value is None:
        return None
    return str(value.value if isinstance(value, Enum) else value)


@dataclass(frozen=True, slots=True)
class FindingRow:
    """One line of the findings list."""

    finding_id: str
    status: FindingStatus
    score: float
    added: bool = False
    note: str = ""
    nodule_type: str | None = None
    size_mm: float | None = None
    size_measured: bool = True
    change: str | None = None
    lung_rads: str | None = None
    risk: float | None = None
    below_point: bool = False  # an AI finding scoring below the reader's operating point (drawn dimmed)

    @property
    def status_text(self) -> str:
        return self.status.value + (" (added)" if self.added else "")

    def cells(self) -> tuple[str, ...]:
        """The display text per column of :data:`COLUMNS`."""
        if self.size_mm is None:
            size = NONE
        else:
            size = f"{self.size_mm:.1f} mm" if self.size_measured else f"~{self.size_mm:.1f} mm (box)"
        return (self.finding_id, self.status_text, self.nodule_type or NONE, size, self.change or "",
                self.lung_rads or NONE, NONE if self.risk is None else f"{100 * self.risk:.1f} %",
                f"{self.score:.2f}")

    def sort_key(self, column: int) -> tuple[int, float | str]:
        """Sorts missing values first (ascending); numbers as numbers, Lung-RADS by rank."""
        values: tuple[float | str | None, ...] = (
            self.finding_id, self.status_text, self.nodule_type, self.size_mm, self.change,
            None if self.lung_rads is None else float(LungRads(self.lung_rads).rank),
            self.risk, self.score)
        v = values[column]
        return (0, "") if v is None else (1, v)


def row_for(finding: Finding, status: FindingStatus = FindingStatus.PENDING, *, note: str = "",
            change: str | None = None) -> FindingRow:
    a = finding.analysis
    measured = finding.diameter_mm is not None
    size = finding.diameter_mm if measured else max(finding.box.size)
    return FindingRow(finding.finding_id, status, finding.score, added=finding.source is FindingSource.REVIEWER,
                      note=note, nodule_type=_text(_attr(a, "nodule_type")), size_mm=size,
                      size_measured=measured, change=change, lung_rads=_rads(a),
                      risk=None if a is None else a.malignancy_risk)


def rows_for_findings(findings: Iterable[Finding], statuses: Mapping[str, FindingStatus] | None = None,
                      changes: Mapping[str, str] | None = None) -> list[FindingRow]:
    st, ch = statuses or {}, changes or {}
    return [row_for(f, st.get(f.finding_id, FindingStatus.PENDING), change=ch.get(f.finding_id))
            for f in findings]


def note_of(fs: FindingState) -> str:
    return " · ".join(x for x in (fs.reason.value if fs.reason else "", fs.comment) if x)


def rows_for_study(study: ReviewedStudy, changes: Mapping[str, str] | None = None) -> list[FindingRow]:
    ch = changes or {}
    return [row_for(fs.finding, fs.status, note=note_of(fs), change=ch.get(fs.finding.finding_id))
            for fs in study.findings]


def sorted_rows(rows: Sequence[FindingRow], column: int, descending: bool = False) -> list[FindingRow]:
    return sorted(rows, key=lambda r: r.sort_key(column), reverse=descending)


@dataclass(frozen=True, slots=True)
class FindingCard:
    """The selected finding in words: a title and (label, value) lines."""

    title: str
    lines: tuple[tuple[str, str], ...]


def _measurement_text(finding: Finding) -> str:
    m = _attr(finding.analysis, "measurement")
    if m is None:
        if finding.diameter_mm is not None:
            return f"mean diameter {finding.diameter_mm:.1f} mm"
        return "not measured (box {:.0f} × {:.0f} × {:.0f} mm)".format(*finding.box.size)
    parts = [f"{_attr(m, 'long_axis_mm'):.1f} × {_attr(m, 'short_axis_mm'):.1f} mm "
             f"(mean {_attr(m, 'mean_diameter_mm'):.1f} mm)"]
    volume = _attr(m, "volume_mm3")
    if isinstance(volume, (int, float)):
        parts.append(f"volume {volume:.0f} mm³")
    solid = _attr(m, "solid_component_mm")
    if isinstance(solid, (int, float)):
        parts.append(f"solid part {solid:.1f} mm")
    return ", ".join(parts)


def _risk_text(finding: Finding) -> str:
    a = finding.analysis
    risk = None if a is None else a.malignancy_risk
    if risk is None:
        return "not computed"
    m = _attr(a, "measurement")
    inputs = [f"size {_attr(m, 'mean_diameter_mm'):.1f} mm" if m is not None else "",
              f"type {_text(_attr(a, 'nodule_type'))}" if _attr(a, "nodule_type") is not None else "",
              f"upper lobe {'yes' if _text(_attr(a, 'zone')) == 'upper' else 'no'}",
              f"nodule count {_attr(a, 'nodule_count') or 1}"]
    defaults = _attr(a, "risk_defaults_used")
    text = f"{100 * risk:.1f} % (Brock) from " + ", ".join(i for i in inputs if i)
    if isinstance(defaults, (tuple, list)) and defaults:
        text += "; defaults used for " + ", ".join(str(d) for d in defaults)
    return text


def card_for(fs: FindingState, model: ModelInfo | None = None, change: str | None = None) -> FindingCard:
    f = fs.finding
    a = f.analysis
    rads = _rads(a)
    reason = _text(_attr(a, "lung_rads_reason"))
    score = f"{f.score:.2f}" if f.source is FindingSource.AI else "added by the reviewer"
    if f.source is FindingSource.AI and model is not None and model.operating_threshold is not None:
        score += f" (operating point {model.operating_threshold:.2f}, model {model.model_id} {model.version})"
    lines = [("Status", f"{fs.status.value}" + (f" ({note_of(fs)})" if note_of(fs) else "")),
             ("Size", _measurement_text(f)),
             ("Type", _text(_attr(a, "nodule_type")) or "not typed"),
             ("Lung-RADS", (rads or "not categorised") + (f": {reason}" if rads and reason else "")),
             ("Risk", _risk_text(f)),
             ("Score", score)]
    if change:
        lines.append(("Change", change))
    side, zone = _text(_attr(a, "side")), _text(_attr(a, "zone"))
    if side or zone:
        lines.append(("Location", " ".join(x for x in (side, zone and f"{zone} zone") if x)))
    return FindingCard(f"{f.finding_id} · " + "({:.1f}, {:.1f}, {:.1f}) mm".format(*f.center), tuple(lines))


def _rads(a: NoduleAnalysis | None) -> str | None:
    return None if a is None else a.lung_rads.value
