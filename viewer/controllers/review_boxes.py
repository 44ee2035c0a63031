"""Adding and editing nodule boxes in the review: the reader clicks a centre or draws/drags a box;
the nodule is measured off the GUI thread and the session records an ADDED or EDITED decision.
A mixin of :class:`viewer.controllers.review_controller.ReviewController` (it uses its ``session``,
``window``, ``measurer``, ``notice`` and ``_act``).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, Callable

from inference.domain.finding import Box3D
from viewer.points import as_point
from viewer.review.measuring import add_box
from viewer.review.measuring import Measured
from viewer.review.session import ReviewSession

if TYPE_CHECKING:
    from viewer.controllers.measurer import Measurer
    from viewer.main_window import MainWindow


class BoxEditing:
    """What it needs of the controller is declared here; the controller provides it."""

    add_tool_on: bool
    session: ReviewSession | None
    window: MainWindow
    measurer: Measurer
    notice: Callable[[str], None]
    _act: Callable[..., None]

    def _measured(self, box: Box3D, then: Callable[[Measured], None]) -> None:
        """Measure in the background, then ``then(measured)`` on the GUI thread."""
        if self.session is None:
            self.window.cancel_box_preview()
            self.notice("Open a study from the worklist first.")
            return
        if self.measurer.start(self.session, box, partial(self._after_measuring, self.session, then)):
            self.notice("Measuring the nodule…")
        else:
            self.window.cancel_box_preview()
            self.notice("Still measuring the previous nodule; try again in a moment.")

    def _after_measuring(self, session: ReviewSession, then: Callable[[Measured], None],
                         result: Measured | Exception) -> None:
        if self.session is not session:
            return  # another study was opened meanwhile
        if isinstance(result, Exception):
            self.notice(f"Measuring failed ({result}); the box is kept unmeasured.")
            result = (None, None)
        then(result)

    def add_at(self, world: Any) -> None:
        """Add a nodule at a clicked centre (a default box around it, then measured)."""
        self.add_drawn(add_box(None, as_point(world)))

    def add_drawn(self, box: Box3D) -> None:
        """Add a nodule with a box drawn in a view; measured like an AI finding; selected once
        stored (``FindingAdded``)."""
        self._measured(box, partial(self._add, box))

    def _add(self, box: Box3D, measured: Measured) -> None:
        self._act(lambda s: s.add(box=box, measured=measured), needs_finding=False)

    def add_here(self) -> None:
        self.add_at(self.window.scene.cursor)

    def set_add_tool(self, on: bool) -> None:
        self.add_tool_on = bool(on)
        self.window.box_drawing = self.add_tool_on
        self.notice("Add-nodule tool: click the nodule's centre or drag a box around it in any view."
                    if on else "")

    def on_click(self, world: Any) -> None:
        if self.add_tool_on:
            self.add_at(world)

    def edit_box(self, finding_id: str, box: Box3D) -> None:
        """A finding's new box (dragged in a view or typed in the dialog): an EDITED decision,
        re-measured off the GUI thread."""
        self._measured(box, partial(self._edit, finding_id, box))

    def _edit(self, finding_id: str, box: Box3D, measured: Measured) -> None:
        self._act(lambda s: s.edit(finding_id, box, measured=measured), needs_finding=False)
