"""Batch screening: the real worker (classical model, CPU) on phantom DICOM series in tmp."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from review_phantom_dicom import small_phantom, write_ct_series

from inference.domain.finding import Box3D, Finding
from inference.domain.nodule import LungRads, Measurement, NoduleAnalysis, NoduleType
from viewer.cli import main
from viewer.review.errors import ReviewError, ScreeningError, UnknownStudy
from viewer.review.screening import Eta, find_series, is_flagged, screen_folder
from viewer.review.session import ReviewSession
from viewer.review.store import Store


def _f(score: float, rads: LungRads | None = None, risk: float | None = 0.02) -> Finding:
    m = Measurement(long_axis_mm=5.0, short_axis_mm=4.0, mean_diameter_mm=4.5, max_3d_diameter_mm=5.2,
                    volume_mm3=48.0, mean_hu=20.0, max_hu=90.0)
    analysis = None if rads is None else NoduleAnalysis(
        measurement=m, nodule_type=NoduleType.SOLID, calcified=False, juxta_pleural=False, side=None,
        zone=None, location_note="", malignancy_risk=risk, risk_defaults_used=(), lung_rads=rads,
        lung_rads_reason="", management="")
    return Finding("f", (0, 0, 0), Box3D.around((0, 0, 0), 5), score, analysis=analysis)


def test_flag_rule_operating_point_or_lung_rads_3() -> None:
    two, three, four = LungRads.CAT_2, LungRads.CAT_3, LungRads.CAT_4A
    assert is_flagged([_f(0.6, two)], 0.5) == (True, two, 0.02)
    assert is_flagged([_f(0.3, two)], 0.5) == (False, two, 0.02)
    assert is_flagged([_f(0.3, three), _f(0.1, two)], 0.5) == (True, three, 0.02)
    assert is_flagged([_f(0.1, two, 0.3), _f(0.2, four, None), _f(0.3)], 0.5) == (True, four, 0.3)
    assert is_flagged([], 0.5) == (False, None, None)


def test_eta_from_progress() -> None:
    now = [100.0]
    eta = Eta(clock=lambda: now[0])
    assert eta.remaining(0.0) is None
    now[0] = 130.0
    assert eta.remaining(0.25) == pytest.approx(90.0)
    assert eta.remaining(1.0) == 0.0


def test_screening_a_missing_folder_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(ScreeningError, match="does not exist"):
        find_series(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ScreeningError, match="no readable CT series"):
        screen_folder(tmp_path / "empty", Store(tmp_path / "s.db"), detect=lambda j, p: None)


def test_screen_cli_reports_a_bad_folder_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["screen", str(tmp_path / "missing"), "--db", str(tmp_path / "s.db")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("nodulelens screen: ") and "missing: does not exist" in err
    assert len(err.splitlines()) == 1


@pytest.mark.slow
def test_screen_cli_flags_the_nodule_skips_the_broken_series_and_resumes(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    phantom = small_phantom()
    scans = tmp_path / "scans"
    study, series = write_ct_series(phantom.volume, scans / "patient-a" / "ct", "PA")
    _, broken = write_ct_series(phantom.volume, scans / "patient-b" / "ct", "PB", skip=(20,))
    db = tmp_path / "store.db"
    args = ["screen", str(scans), "--db", str(db), "--model", "classical", "--device", "cpu",
            "--no-saliency", "--threads", "1"]
    assert main(args) == 1  # one series failed
    out = capsys.readouterr().out
    assert "2 scan(s): 1 screened, 0 already screened (skipped), 1 flagged, 1 failed" in out
    with Store(db) as store:
        rows = {r.series_uid: r for r in store.worklist()}
        good, bad = rows[series], rows[broken]
        assert good.flagged and good.n_findings >= 1 and good.patient_id == "PA"
        assert bad.screen_state == "failed" and "MissingSlices" in bad.screen_error
        study_ = store.reviewed_study(study)
        truth = np.array(phantom.nodules[0].center)
        hits = [fs for fs in study_.findings
                if np.linalg.norm(np.array(fs.finding.center) - truth) < phantom.nodules[0].diameter_mm / 2]
        assert hits, "the phantom's nodule is among the stored findings"
        assert study_.model is not None and study_.model.model_id == "classical"
        assert len(study_.model.manifest_sha256) == 64
        assert hits[0].finding.analysis is not None and good.highest_lung_rads is not None
        n_findings = len(study_.findings)
        assert store.reviewed_study(scans / "patient-a").series_instance_uid == series
        with pytest.raises(UnknownStudy, match="holds 2 stored series"):
            store.reviewed_study(scans)
    assert main(args) == 1  # resumed: the good one skipped, the broken one tried again
    out = capsys.readouterr().out
    assert "2 scan(s): 0 screened, 1 already screened (skipped), 1 flagged, 1 failed" in out
    with Store(db) as store:
        assert len(store.reviewed_study(series).findings) == n_findings
        screens = [a for a in store.audit_log(study) if a.action == "screen"]
        assert len(screens) == 1
        ReviewSession(store, series, "Dr Force").accept(study_.findings[0].finding.finding_id)
    assert main(args + ["--force"]) == 1  # a reviewed series is never screened again
    out = capsys.readouterr().out
    assert "already reviewed; not screened again" in out and "1 failed" in out
    with Store(db) as store:
        assert len([a for a in store.audit_log(study) if a.action == "screen"]) == 1


def test_rescreening_replaces_unreviewed_findings_only(tmp_path: Path) -> None:
    from review_fixtures import MODEL, SERIES, add_screened_series

    with Store(tmp_path / "s.db") as store:
        add_screened_series(store)
        new = [Finding("g1", (1.0, 2.0, 3.0), Box3D.around((1.0, 2.0, 3.0), 6.0), 0.8)]
        store.record_screening(SERIES, new, MODEL, flagged=True, highest_lung_rads=None, highest_risk=None)
        assert [fs.finding.finding_id for fs in store.reviewed_study(SERIES).findings] == ["g1"]
        ReviewSession(store, SERIES, "Dr A").accept("g1")
        with pytest.raises(ReviewError, match="already has reviewer decisions"):
            store.record_screening(SERIES, [], MODEL, flagged=False, highest_lung_rads=None,
                                   highest_risk=None)
        assert [fs.finding.finding_id for fs in store.reviewed_study(SERIES).findings] == ["g1"]
