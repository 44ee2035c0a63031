"""Sign-off needs a detection by the current model (or an audited read without AI), and new findings
after sign-off reopen the study: on a store file, through the real `nodulelens screen --force`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from review_fixtures import MODEL, SERIES, STUDY, add_screened_series
from review_phantom_dicom import small_phantom, write_ct_series

from inference.errors import ActionableError
from viewer.cli import main
from viewer.review.errors import NoDetection, ReasonRequired
from viewer.review.model import DetectionState, FindingStatus, ReadMode, RejectReason, StudyStatus
from viewer.review.session import ReviewSession
from viewer.review.sign_off import ReportState, report_state, status_line
from viewer.review.store import Store


def _actions(store: Store, uid: str) -> list[str]:
    return [a.action for a in store.audit_log(uid)]


def test_sign_off_is_refused_where_detection_never_ran(store: Store) -> None:
    store.add_series(STUDY, SERIES, "/data/scan1", actor="Dr Ada")  # as the viewer registers a scan
    s = ReviewSession(store, SERIES, "Dr Ada", current_model="classical")
    assert s.findings == () and s.detection() is DetectionState.NONE
    with pytest.raises(NoDetection) as caught:
        s.sign_off()
    assert isinstance(caught.value, ActionableError)
    assert str(caught.value).startswith(f"{STUDY}: has not been screened by the AI (model 'classical')")
    assert "Sign off without AI" in str(caught.value)
    assert "sign_off" not in _actions(store, SERIES)
    assert store.reviewed_study(SERIES).status is not StudyStatus.SIGNED_OFF
    clean = MODEL.__class__("classical", "1.0", "cd" * 32, operating_threshold=0.5)
    store.record_screening(SERIES, [], clean, flagged=False, highest_lung_rads=None, highest_risk=None)
    s.sign_off()  # a clean scan screened by the current model: signed off with AI
    study = store.reviewed_study(SERIES)
    assert study.status is StudyStatus.SIGNED_OFF and study.read_mode is ReadMode.WITH_AI
    assert json.loads([a for a in store.audit_log(SERIES) if a.action == "sign_off"][-1].detail)["detection"] == \
        DetectionState.CURRENT.value


def test_another_model_or_a_failed_screening_is_no_detection(store: Store) -> None:
    add_screened_series(store)  # screened by "test-model"
    s = ReviewSession(store, SERIES, "Dr Ada", current_model="classical")
    with pytest.raises(NoDetection, match="screened by model 'test-model', not by the current model 'classical'"):
        s.sign_off()
    store.record_screen_failure(SERIES, "MissingSlices: 1 slice missing")
    with pytest.raises(NoDetection, match=r"the last screening failed \(MissingSlices: 1 slice missing\)"):
        s.sign_off()
    assert "sign_off" not in _actions(store, SERIES)


def test_sign_off_without_ai_needs_a_reason_and_is_audited(store: Store) -> None:
    add_screened_series(store)
    s = ReviewSession(store, SERIES, "Dr Ada", current_model="classical")
    with pytest.raises(ReasonRequired, match="without a reason"):
        s.sign_off_without_ai("  \n ")
    s.accept("f1")
    s.reject("f2", RejectReason.VESSEL)
    s.sign_off_without_ai("  AI  model\nnot validated here ")
    row = [a for a in store.audit_log(SERIES) if a.action == "sign_off"]
    assert len(row) == 1 and row[0].actor == "Dr Ada"
    detail = json.loads(row[0].detail)
    assert detail["read_mode"] == "without AI" and detail["reason"] == "AI model not validated here"
    assert detail["detection"] == DetectionState.OTHER_MODEL.value and detail["model"] == MODEL.model_id
    study = store.reviewed_study(SERIES)
    assert study.status is StudyStatus.SIGNED_OFF and study.read_mode is ReadMode.WITHOUT_AI
    assert study.read_without_ai_reason == "AI model not validated here"
    assert report_state(study) is ReportState.FINAL
    assert status_line(study) == "FINAL: signed off by Dr Ada; read WITHOUT AI (reason: AI model not validated here)"


def test_screen_force_after_sign_off_reopens_the_study(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """The reported sequence: a scan opened without detection and signed off (here: without AI, the
    only sign-off left), then `screen --force` finds the nodule: the study is reopened, audited, back
    on the worklist, and every export says PRELIMINARY until the reader decides it again."""
    from viewer.export.from_store import export_from_store

    phantom = small_phantom()
    study_uid, series = write_ct_series(phantom.volume, tmp_path / "scans" / "a", "PSO")
    db = tmp_path / "store.db"
    with Store(db) as store:
        store.add_series(study_uid, series, str(tmp_path / "scans" / "a"), actor="Dr Ada", patient_id="PSO")
        s = ReviewSession(store, series, "Dr Ada", current_model="classical")
        with pytest.raises(NoDetection):
            s.sign_off()
        s.sign_off_without_ai("urgent read, AI not run")
        assert store.reviewed_study(series).status is StudyStatus.SIGNED_OFF
    args = ["screen", str(tmp_path / "scans"), "--db", str(db), "--model", "classical", "--device", "cpu",
            "--no-saliency", "--threads", "1", "--force"]
    assert main(args) == 0
    capsys.readouterr()
    with Store(db) as store:
        study = store.reviewed_study(series)
        threshold = study.model.operating_threshold if study.model else None
        presented = [fs for fs in study.findings if threshold is None or fs.finding.score >= threshold]
        assert presented, "the phantom's nodule is found"
        reopen = [a for a in store.audit_log(series) if a.action == "reopen"]
        assert len(reopen) == 1 and reopen[0].actor == "screening"
        detail = json.loads(reopen[0].detail)
        assert detail["reason"] == f"reopened: {len(presented)} new finding(s) from model classical"
        assert detail["automatic"] is True and detail["model"] == "classical"
        assert _actions(store, series)[-2:] == ["screen", "reopen"]
        assert study.status is StudyStatus.IN_REVIEW and report_state(study) is ReportState.PRELIMINARY
        row = next(r for r in store.worklist() if r.series_uid == series)
        assert row.status is StudyStatus.IN_REVIEW and row.flagged
        doc = json.loads(export_from_store(store, series, "json", tmp_path / "x.json")[0].files[0].read_text())
        assert doc["study"]["report_state"] == "preliminary" and doc["study"]["signed_off"] is False

        again = ReviewSession(store, series, "Dr Ada", current_model="classical")
        for fs in presented:
            again.accept(fs.finding.finding_id)
        again.sign_off()  # now with AI: the current model's detection is in the store
        final = store.reviewed_study(series)
        assert final.read_mode is ReadMode.WITH_AI and report_state(final) is ReportState.FINAL
        assert all(fs.status is FindingStatus.ACCEPTED for fs in final.findings
                   if fs.finding.finding_id in {p.finding.finding_id for p in presented})
