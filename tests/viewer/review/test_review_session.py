"""The review session: decisions, undo/redo as appended rows, navigation, sign-off and reopen."""

from __future__ import annotations

import json

import pytest
from review_fixtures import MODEL, SERIES, STUDY

from inference.domain.finding import Box3D, FindingSource
from inference.domain.nodule import LungRads, Measurement, NoduleAnalysis, NoduleType
from viewer.review.errors import NoReviewer, SignOffBlocked, UnknownFinding
from viewer.review.model import Decision, FindingStatus, RejectReason, StudyStatus
from viewer.review.session import ReviewSession
from viewer.review.store import Store


def _statuses(session: ReviewSession) -> dict[str, str]:
    return {fs.finding.finding_id: fs.status.value for fs in session.findings}


def test_accept_reject_comment_are_stored_with_reviewer(store: Store, screened: str) -> None:
    s = ReviewSession(store, STUDY, "  Dr   Ada  ")
    s.open()
    s.accept("f1")
    s.reject("f2", RejectReason.VESSEL, "branching vessel")
    s.comment("f1", "spiculated margin")
    assert _statuses(s) == {"f1": "accepted", "f2": "rejected", "f3": "pending"}
    assert s.state("f2").reason is RejectReason.VESSEL and s.state("f2").comment == "branching vessel"
    assert s.state("f1").comment == "spiculated margin"
    ds = store.decisions(SERIES)
    assert [d.decision for d in ds] == [Decision.ACCEPTED, Decision.REJECTED, Decision.COMMENTED]
    assert {d.reviewer for d in ds} == {"Dr Ada"}
    assert json.loads(ds[1].previous_value)["status"] == "pending"
    assert json.loads(ds[1].new_value)["status"] == "rejected"
    assert store.reviewed_study(STUDY).status is StudyStatus.IN_REVIEW


def test_undo_and_redo_append_and_never_delete(store: Store, screened: str) -> None:
    s = ReviewSession(store, STUDY, "Dr Ada")
    s.accept("f1")
    s.reject("f1", RejectReason.SCAR_FIBROSIS)
    s.undo()
    assert s.state("f1").status is FindingStatus.ACCEPTED
    s.undo()
    assert s.state("f1").status is FindingStatus.PENDING
    s.redo()
    assert s.state("f1").status is FindingStatus.ACCEPTED
    s.redo()
    assert s.state("f1").status is FindingStatus.REJECTED
    assert s.state("f1").reason is RejectReason.SCAR_FIBROSIS
    ds = store.decisions(SERIES)
    assert [d.decision.value for d in ds] == ["accepted", "rejected", "reset", "reset", "accepted", "rejected"]
    assert ds[2].undoes == ds[1].seq and ds[3].undoes == ds[0].seq
    s.undo()
    s.accept("f2")  # a new action clears the redo history
    assert not s.can_redo
    # a fresh store view derives the same state
    assert _statuses(ReviewSession(store, SERIES, "Dr B")) == _statuses(s)


def test_edit_moves_the_box_and_remeasures(store: Store, screened: str) -> None:
    calls = []

    def measure(center, box):
        calls.append((center, box))
        return _analysis(max(box.size)), 7.5

    s = ReviewSession(store, STUDY, "Dr Ada", measure=measure)
    new_box = Box3D((0.0, -30.0, -110.0), (12.0, -18.0, -100.0))
    s.edit("f1", new_box)
    f = s.state("f1").finding
    assert f.box == new_box and f.center == new_box.center and f.diameter_mm == 7.5
    assert f.analysis == _analysis(12.0)
    assert s.state("f1").status is FindingStatus.ACCEPTED and calls == [(new_box.center, new_box)]
    s.undo()
    assert s.state("f1").finding.box == Box3D.around((10.0, -20.0, -99.0), 8.0)
    assert s.state("f1").status is FindingStatus.PENDING


def _analysis(long_axis_mm: float) -> NoduleAnalysis:
    m = Measurement(long_axis_mm=long_axis_mm, short_axis_mm=long_axis_mm / 2, mean_diameter_mm=7.5,
                    max_3d_diameter_mm=long_axis_mm, volume_mm3=220.0, mean_hu=30.0, max_hu=95.0)
    return NoduleAnalysis(measurement=m, nodule_type=NoduleType.SOLID, calcified=False, juxta_pleural=False,
                          side=None, zone=None, location_note="", malignancy_risk=0.04, risk_defaults_used=(),
                          lung_rads=LungRads.CAT_3, lung_rads_reason="", management="")


def test_add_missed_nodule_by_centre_and_by_box(store: Store, screened: str) -> None:
    s = ReviewSession(store, STUDY, "Dr Ada", measure=lambda c, b: (None, 5.0))
    a = s.add(center=(1.0, 2.0, 3.0))
    b = s.add(box=Box3D((0, 0, 0), (4, 4, 4)))
    assert (a, b) == ("reviewer-1", "reviewer-2")
    fa = s.state(a).finding
    assert fa.source is FindingSource.REVIEWER and fa.center == (1.0, 2.0, 3.0) and fa.score == 1.0
    assert fa.box.size == (10.0, 10.0, 10.0) and fa.diameter_mm == 5.0
    s.undo()
    with pytest.raises(UnknownFinding):
        s.state(b)
    s.redo()
    assert s.state(b).status is FindingStatus.ACCEPTED
    with pytest.raises(ValueError):
        s.add()


def test_navigation_cycles_through_undecided(store: Store, screened: str) -> None:
    s = ReviewSession(store, STUDY, "Dr Ada")
    assert s.next_undecided(None) == "f1"
    assert s.previous_undecided(None) == "f3"
    s.accept("f2")
    assert s.next_undecided("f1") == "f3"
    assert s.next_undecided("f3") == "f1"
    assert s.previous_undecided("f3") == "f1"
    s.accept("f1")
    s.accept("f3")
    assert s.next_undecided("f1") is None


def test_sign_off_needs_every_ai_finding_and_reopen_is_audited(store: Store, screened: str) -> None:
    s = ReviewSession(store, STUDY, "Dr Ada", current_model=MODEL.model_id)
    s.accept("f1")
    s.add(center=(0.0, 0.0, 0.0))
    # f3 scores 0.4, below the study's operating point (0.5): kept for a lower point, not required
    with pytest.raises(SignOffBlocked, match=r"1 AI finding\(s\) are undecided \(f2\)"):
        s.sign_off()
    s.reject("f2", RejectReason.ARTEFACT)
    s.reject("f3", RejectReason.OTHER, "motion")
    s.sign_off()
    study = store.reviewed_study(STUDY)
    assert study.status is StudyStatus.SIGNED_OFF and study.signed_off_by == "Dr Ada"
    assert study.signed_off_at is not None
    with pytest.raises(SignOffBlocked, match="Reopen"):
        s.accept("f2")
    with pytest.raises(SignOffBlocked, match="already signed off"):
        s.sign_off()
    other = ReviewSession(store, STUDY, "Dr Bea", current_model=MODEL.model_id)
    other.reopen("second opinion")
    assert store.reviewed_study(STUDY).status is StudyStatus.IN_REVIEW
    other.accept("f2")
    other.sign_off()
    study = store.reviewed_study(STUDY)
    assert study.signed_off_by == "Dr Bea" and study.findings[1].decided_by == "Dr Bea"
    actions = [(a.action, a.actor) for a in store.audit_log(STUDY) if not a.action.startswith("decision")]
    assert actions[-3:] == [("sign_off", "Dr Ada"), ("reopen", "Dr Bea"), ("sign_off", "Dr Bea")]
    other.reopen()
    with pytest.raises(SignOffBlocked, match="not signed off"):
        other.reopen()


def test_reader_study_log_and_worklist(store: Store, screened: str) -> None:
    s = ReviewSession(store, STUDY, "Dr Ada")
    s.show("f1")
    s.show("f1")  # only the first showing counts
    s.accept("f1")
    log = {e.finding_id: e for e in store.reader_study_log(SERIES)}
    assert log["f1"].first_shown_at is not None and log["f1"].first_shown_at <= log["f1"].first_decided_at
    assert log["f2"].first_shown_at is None and log["f2"].final_status == "pending"
    assert sum(a.action == "shown" for a in store.audit_log(STUDY)) == 1
    (row,) = store.worklist()
    assert row.flagged and row.highest_lung_rads is LungRads.CAT_4A and row.n_findings == 3
    assert row.status is StudyStatus.IN_REVIEW and row.reviewer == "Dr Ada"


def test_reviewer_name_is_required(store: Store, screened: str) -> None:
    with pytest.raises(NoReviewer, match="Enter your name"):
        ReviewSession(store, STUDY, "   ")
