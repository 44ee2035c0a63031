"""The findings on screen (boxes in every view, rows in the findings list) as the reader's operating
point shows them: AI findings scoring below the point are drawn dimmed, or left out when the reader
hides them. A part of :class:`~viewer.main_window.MainWindow`; it reads the window's ``findings``,
``statuses``, ``scene``, ``findings_list`` and ``findings_shown``.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Sequence

from inference.domain.finding import Finding, FindingSource
from viewer.review.finding_rows import FindingRow, rows_for_findings
from viewer.review.model import FindingStatus
from viewer.review.operating_point import BelowPoint
from viewer.scene.overlays2d import BoxOverlay

if TYPE_CHECKING:
    from viewer.scene.scene import Scene
    from viewer.widgets.findings_list import FindingsList


class FindingDisplay:
    findings: tuple[Finding, ...]
    statuses: dict[str, FindingStatus]
    operating_point: float | None
    below_point: BelowPoint
    _listed_rows: list[FindingRow]
    scene: Scene
    findings_list: FindingsList
    findings_shown: Any  # the window's Qt signal

    def set_findings(self, findings: Sequence[Finding], statuses: dict[str, FindingStatus] | None = None) -> None:
        self.findings = tuple(findings)
        self.statuses = dict(statuses or {})
        self._listed_rows = list(rows_for_findings(self.findings, self.statuses))
        self._show_findings()

    def set_operating_point(self, threshold: float | None, below: BelowPoint = BelowPoint.DIMMED) -> None:
        """AI findings scoring below ``threshold`` are drawn dimmed or left out (None: all alike)."""
        self.operating_point, self.below_point = threshold, below
        self._show_findings()

    def below_operating_point(self, finding: Finding) -> bool:
        """An AI finding scoring below the reader's operating point (a reader's own never is)."""
        return (self.operating_point is not None and finding.source is FindingSource.AI
                and finding.score < self.operating_point)

    def shown_findings(self) -> tuple[Finding, ...]:
        """The findings on screen: all, less those below the point when the reader hides them."""
        if self.below_point is BelowPoint.HIDDEN:
            return tuple(f for f in self.findings if not self.below_operating_point(f))
        return self.findings

    def show_rows(self, rows: Sequence[FindingRow], selected: str | None = None) -> None:
        """Rows into the findings list as the operating point says: rows of findings below the point
        are dimmed, or left out when the reader hides them."""
        self._listed_rows = list(rows)
        below = {f.finding_id for f in self.findings if self.below_operating_point(f)}
        hide = self.below_point is BelowPoint.HIDDEN
        self.findings_list.set_rows([dataclasses.replace(r, below_point=r.finding_id in below) for r in rows
                                     if not (hide and r.finding_id in below)], selected)

    def _show_findings(self) -> None:
        shown = self.shown_findings()
        self.show_rows(self._listed_rows, self.scene.selected)
        self.scene.set_boxes(
            BoxOverlay(f.finding_id, f.box.lo, f.box.hi, self.statuses.get(f.finding_id, FindingStatus.PENDING),
                       dimmed=self.below_operating_point(f))
            for f in shown
        )
        if self.scene.selected in {f.finding_id for f in shown}:
            self.scene.select(self.scene.selected)
            self.findings_list.show_selected(self.scene.selected)
        self.findings_shown.emit()
