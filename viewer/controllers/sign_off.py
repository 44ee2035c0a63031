"""Sign-off in the viewer: Ctrl+Return signs off with AI; Review > Sign off without AI asks for the
reason in a dialog. The rules are :mod:`viewer.review.sign_off` (through the session); a refusal
is a typed error shown in the review panel and kept in the Messages dock, and nothing is lost.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from viewer.messages import Level, Source
from viewer.review.errors import NoDetection
from viewer.review.model import DetectionState, StudyStatus
from viewer.review.sign_off import detection_problem

if TYPE_CHECKING:
    from viewer.controllers.review_controller import ReviewController


def sign_off(c: ReviewController) -> None:
    """Sign off with AI; refused (and said why) without a detection by the current model."""
    s = c.session
    if s is None:
        return c.notice("Open a study from the worklist first.")

    def attempt() -> None:
        try:
            s.sign_off()
        except NoDetection as exc:  # kept in Messages too: the reader decides how to go on
            c.window.post_message(Source.REVIEW, f"{exc} (Review > Sign off without AI)", Level.WARNING,
                                  s.series_uid)
            raise
    c.guard(attempt)
    return None


def sign_off_without_ai(c: ReviewController) -> None:
    """Ask for the reason (plain-text dialog), then sign off without AI (audited)."""
    from viewer.widgets.sign_off_dialog import SignOffWithoutAiDialog

    s = c.session
    if s is None:
        return c.notice("Open a study from the worklist first.")
    if s.status is StudyStatus.SIGNED_OFF:
        return c.notice("This study is already signed off; reopen it to change anything.")
    state = s.detection()
    why = ("the current model has screened it; signing off without AI is still recorded as such"
           if state is DetectionState.CURRENT
           else detection_problem(state, c.store.series_row(s.series_uid), s.current_model))
    dialog = SignOffWithoutAiDialog(s.study.study_instance_uid, why, c.window)
    dialog.chosen.connect(lambda reason: c.guard(partial(s.sign_off_without_ai, reason)))
    c._open_dialog(dialog)
    return None
