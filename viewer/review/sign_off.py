"""Sign-off rules and what a report may claim about a study. Qt-free.

- Sign-off **with AI** needs a detection of this series by the current model in the store
  (:func:`detection_state` is :attr:`DetectionState.CURRENT`); anything else raises
  :class:`~viewer.review.errors.NoDetection`. Sign-off **without AI** needs the reader's reason and
  is audited with it (:func:`sign_off_detail`); exports then say so.
- New AI findings stored after sign-off reopen the study (:func:`reopen_reason`, called by the
  store inside the screening's transaction).
- A report is :attr:`ReportState.FINAL` (SR: COMPLETE / VERIFIED) only when the study is signed off
  and every reported finding is decided (:func:`report_state`); else PRELIMINARY (PARTIAL /
  UNVERIFIED), and :func:`status_line` says why.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

from viewer.review.model import DetectionState, FindingStatus, ReadMode, ReviewedStudy, StudyStatus

#: the audit actions that change a study's sign-off state
SIGN_OFF, REOPEN = "sign_off", "reopen"
#: the longest reason kept for a sign-off without AI (characters)
MAX_REASON = 2000


class ReportState(Enum):
    FINAL = "final"  # SR: COMPLETE, FINAL, VERIFIED
    PRELIMINARY = "preliminary"  # SR: PARTIAL, PRELIMINARY, UNVERIFIED


def detection_state(series_row: dict[str, Any], current_model: str) -> DetectionState:
    """What the store's series row says about detection, against the model in use now."""
    state, model = series_row.get("screen_state"), series_row.get("model_id")
    if state == "screened" and model:
        return DetectionState.CURRENT if model == current_model else DetectionState.OTHER_MODEL
    if state == "failed":
        return DetectionState.FAILED
    return DetectionState.NONE


def detection_problem(state: DetectionState, series_row: dict[str, Any], current_model: str) -> str:
    """Why a sign-off with AI is refused, in the reader's words."""
    if state is DetectionState.OTHER_MODEL:
        return (f"was screened by model '{series_row.get('model_id')}', not by the current model "
                f"'{current_model}'")
    if state is DetectionState.FAILED:
        return f"has no detection: the last screening failed ({series_row.get('screen_error') or 'no detail'})"
    return f"has not been screened by the AI (model '{current_model}'): detection never ran on it"


def clean_reason(reason: str) -> str:
    """The reason as stored: stripped, at most :data:`MAX_REASON` characters; '' when blank."""
    return " ".join(reason.split())[:MAX_REASON] if reason else ""


def sign_off_detail(counts: dict[str, int], mode: ReadMode, state: DetectionState, model: str | None,
                    reason: str = "") -> dict[str, Any]:
    """The ``sign_off`` audit row's detail: finding counts, how the study was read and why."""
    return {**counts, "read_mode": mode.value, "detection": state.value, "model": model,
            "reason": reason}


def read_mode_of(detail: str | dict[str, Any] | None) -> tuple[ReadMode, str]:
    """(read mode, reason) from a ``sign_off`` audit row's detail. Rows written before the rule
    (no ``read_mode``) are taken as read with AI."""
    d = json.loads(detail) if isinstance(detail, str) else (detail or {})
    try:
        mode = ReadMode(d.get("read_mode", ReadMode.WITH_AI.value))
    except ValueError:
        mode = ReadMode.WITH_AI
    return mode, str(d.get("reason") or "")


def reopen_reason(n_new: int, model: str | None) -> str:
    return f"reopened: {n_new} new finding(s) from model {model or 'unknown'}"


def undecided_reported(study: ReviewedStudy) -> tuple[str, ...]:
    """The reported findings still undecided: AI findings at or above the study's operating point
    (all AI findings when it has none) that nobody accepted or rejected."""
    point = study.model.operating_threshold if study.model is not None else None
    return tuple(fs.finding.finding_id for fs in study.findings
                 if fs.status is FindingStatus.PENDING and (point is None or fs.finding.score >= point))


def is_signed(study: ReviewedStudy) -> bool:
    return (study.status is StudyStatus.SIGNED_OFF and bool(study.signed_off_by.strip())
            and study.signed_off_at is not None)


def report_state(study: ReviewedStudy) -> ReportState:
    """FINAL only for a signed-off study whose every reported finding is decided."""
    return ReportState.FINAL if is_signed(study) and not undecided_reported(study) else ReportState.PRELIMINARY


def status_line(study: ReviewedStudy, names: bool = True) -> str:
    """Why a report is preliminary (or that it is final), for the PDF, the JSON and warnings;
    ``names=False`` leaves out who signed off (the SR carries it in its verifying observer)."""
    left = undecided_reported(study)
    without = (f"; read WITHOUT AI (reason: {study.read_without_ai_reason})"
               if study.read_mode is ReadMode.WITHOUT_AI else "")
    if not is_signed(study):
        return f"PRELIMINARY: not signed off{_undecided(left)}"
    if left:
        return f"PRELIMINARY: signed off, but{_undecided(left)[1:]}; the study must be reviewed again{without}"
    return f"FINAL: signed off{f' by {study.signed_off_by}' if names else ''}{without}"


def _undecided(left: tuple[str, ...]) -> str:
    return f", {len(left)} finding(s) undecided ({', '.join(left)})" if left else ""
