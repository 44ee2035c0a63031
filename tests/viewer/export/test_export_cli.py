"""``nodulelens export`` on a study reviewed in a real store (SQLite), LIDC-IDRI-0001."""

from __future__ import annotations

import csv
import json

import highdicom as hd
import numpy as np
import pydicom
import pytest
from export_helpers import NODULE_CENTER, dciodvfy_errors

from inference.domain.nodule import LungRads
from viewer.cli import main
from viewer.review.model import RejectReason


@pytest.fixture(scope="module")
def reviewed_db(tmp_path_factory, lidc1, lidc1_volume, study, saliency):
    from inference.service.findings_file import save_saliency
    from viewer.review.session import ReviewSession
    from viewer.review.store import Store

    root = tmp_path_factory.mktemp("store")
    db = root / "review.db"
    info = lidc1_volume.info
    f1, f2 = study.findings[0].finding, study.findings[1].finding
    sal = {"f1": str(save_saliency(saliency["f1"].volume, root / "f1.npz", method=saliency["f1"].method))}
    with Store(db) as store:
        store.add_series(info.study_instance_uid, info.series_instance_uid, str(lidc1), actor="test")
        store.record_screening(info.series_instance_uid, [f1, f2], study.model, flagged=True,
                               highest_lung_rads=LungRads.CAT_4B, highest_risk=0.42, saliency_paths=sal)
        session = ReviewSession(store, info.series_instance_uid, "Doe^Jane", current_model=study.model.model_id)
        session.accept("f1")
        session.reject("f2", RejectReason.VESSEL)
        session.sign_off()
    return db


def test_cli_exports_sr_seg_and_map_that_validate(tmp_path, reviewed_db, lidc1_volume, capsys) -> None:
    uid = lidc1_volume.info.study_instance_uid
    rc = main(["export", uid, "--db", str(reviewed_db), "--format", "sr", "--out", str(tmp_path / "o")])
    assert rc == 0, capsys.readouterr().err
    names = sorted(p.name for p in (tmp_path / "o").iterdir())
    assert names == ["pm_f1.dcm", "seg.dcm", "sr.dcm"]
    for name in names:
        assert dciodvfy_errors(tmp_path / "o" / name) == [], name
    sr = pydicom.dcmread(tmp_path / "o" / "sr.dcm")
    assert sr.VerificationFlag == "VERIFIED"
    assert sr.VerifyingObserverSequence[0].VerifyingObserverName == "Doe^Jane"
    groups = hd.sr.srread(tmp_path / "o" / "sr.dcm").content.get_volumetric_roi_measurement_groups()
    assert [g.tracking_identifier for g in groups] == ["Cornerstone3DTools@^0.1.0:Bidirectional:Nodule 1 (f1)"]
    rads = [q.value.value for q in groups[0].get_qualitative_evaluations() if q.name.value == "LUNGRADS"]
    assert rads == ["LR4B"]  # the analysis as stored at screening
    seg = pydicom.dcmread(tmp_path / "o" / "seg.dcm")
    z, y, x = (int(v) for v in np.rint(lidc1_volume.world_to_index(NODULE_CENTER)))
    frames = [i for i, f in enumerate(seg.PerFrameFunctionalGroupsSequence)
              if f.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
              == lidc1_volume.info.sop_instance_uids[z]]
    assert len(frames) == 1 and seg.pixel_array[frames[0]][y, x] == 1  # real segmentation
    printed = capsys.readouterr().out.split()
    assert str(tmp_path / "o" / "sr.dcm") in printed


def test_cli_csv_and_json(tmp_path, reviewed_db, lidc1_volume) -> None:
    series = lidc1_volume.info.series_instance_uid
    assert main(["export", series, "--db", str(reviewed_db), "--format", "csv", "--out",
                 str(tmp_path / "c.csv")]) == 0
    with open(tmp_path / "c.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["seriesuid"] for r in rows] == [series, series]
    assert main(["export", series, "--db", str(reviewed_db), "--format", "json", "--out",
                 str(tmp_path / "e.json")]) == 0
    doc = json.loads((tmp_path / "e.json").read_text())
    assert {f["id"]: f["status"] for f in doc["findings"]} == {"f1": "accepted", "f2": "rejected"}
    assert [d["decision"] for d in doc["decisions"]] == ["accepted", "rejected"]
    assert "sign_off" in [a["action"] for a in doc["audit"]]


def test_cli_names_a_moved_scan(tmp_path, lidc1_volume, capsys) -> None:
    from viewer.review.store import Store

    db = tmp_path / "r.db"
    gone = tmp_path / "was_here"
    with Store(db) as store:
        store.add_series("1.2.3", "1.2.3.4", str(gone), actor="test")
    rc = main(["export", "1.2.3", "--db", str(db), "--format", "seg", "--out", str(tmp_path / "s.dcm")])
    err = capsys.readouterr().err
    assert rc == 2
    assert str(gone) in err and "missing" in err and "Traceback" not in err


def test_cli_unknown_study_is_a_one_line_error(tmp_path, capsys) -> None:
    rc = main(["export", "9.9.9", "--db", str(tmp_path / "empty.db"), "--format", "json",
               "--out", str(tmp_path / "x.json")])
    assert rc == 2 and "9.9.9" in capsys.readouterr().err


def test_cli_export_of_an_unsigned_study_warns_once(tmp_path, lidc1, lidc1_volume, study, capsys) -> None:
    from viewer.review.session import ReviewSession
    from viewer.review.store import Store

    db = tmp_path / "r.db"
    info = lidc1_volume.info
    with Store(db) as store:
        store.add_series(info.study_instance_uid, info.series_instance_uid, str(lidc1), actor="test")
        store.record_screening(info.series_instance_uid, [study.findings[1].finding], study.model,
                               flagged=False, highest_lung_rads=None, highest_risk=None)
        ReviewSession(store, info.series_instance_uid, "Doe^Jane").reject("f2", RejectReason.ARTEFACT)
    rc = main(["export", info.study_instance_uid, "--db", str(db), "--format", "sr", "--out",
               str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 0 and err.count("not signed off") == 1, err
    sr = pydicom.dcmread(tmp_path / "o" / "sr.dcm")
    assert (sr.VerificationFlag, sr.CompletionFlag) == ("UNVERIFIED", "PARTIAL")
    report = hd.sr.srread(tmp_path / "o" / "sr.dcm").content
    assert report.get_volumetric_roi_measurement_groups() == []  # the rejected finding is no nodule
    assert report.get_image_measurement_groups() == []
    (container,) = [i for i in sr.ContentSequence
                    if i.ConceptNameCodeSequence[0].CodeMeaning == "Qualitative Evaluations"]
    items = {i.ConceptNameCodeSequence[0].CodeValue: i for i in container.ContentSequence}
    counts = {k: float(i.MeasuredValueSequence[0].NumericValue) for k, i in items.items() if i.ValueType == "NUM"}
    assert counts == {"NODCOUNT": 0.0, "AICOUNT": 1.0, "AIREJECT": 1.0}
    assert items["LUNGRADS"].ConceptCodeSequence[0].CodeValue == "LR1"
    assert items["121071"].ConceptCodeSequence[0].CodeValue == "NONODULE"  # the report says so
    assert "no SEG" in err and "no accepted or reviewer-added nodule" in err
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["sr.dcm"]
    assert dciodvfy_errors(tmp_path / "o" / "sr.dcm") == []
    assert dciodvfy_errors(tmp_path / "o" / "sr.dcm") == []
    with Store(db) as store:
        assert [a.action for a in store.audit_log(info.series_instance_uid)][-1] == "export"


def test_cli_refuses_a_folder_that_lost_slices(tmp_path, lidc1, lidc1_volume, capsys) -> None:
    from viewer.review.store import Store

    db = tmp_path / "r.db"
    info = lidc1_volume.info
    with Store(db) as store:  # reviewed when the series had 140 slices
        store.add_series(info.study_instance_uid, info.series_instance_uid, str(lidc1), actor="test",
                         n_slices=140)
    rc = main(["export", info.series_instance_uid, "--db", str(db), "--format", "seg", "--out",
               str(tmp_path / "s.dcm")])
    err = capsys.readouterr().err
    assert rc == 2 and "holds 133 slices of the series, but 140 were reviewed" in err
    assert str(lidc1) in err and not (tmp_path / "s.dcm").exists()


def test_cli_leaves_out_a_saliency_map_off_the_scan_grid(tmp_path, lidc1, lidc1_volume, study, saliency,
                                                         capsys) -> None:
    from inference.service.findings_file import save_saliency
    from viewer.review.session import ReviewSession
    from viewer.review.store import Store

    crop = saliency["f1"].volume
    off = crop.affine.copy()
    off[2, 3] += 1.0  # 0.4 of a slice
    path = save_saliency(crop.with_voxels(crop.voxels, off), tmp_path / "f1.npz", method=saliency["f1"].method)
    db = tmp_path / "r.db"
    info = lidc1_volume.info
    with Store(db) as store:
        store.add_series(info.study_instance_uid, info.series_instance_uid, str(lidc1), actor="test")
        store.record_screening(info.series_instance_uid, [study.findings[0].finding], study.model,
                               flagged=True, highest_lung_rads=LungRads.CAT_4B, highest_risk=0.42,
                               saliency_paths={"f1": str(path)})
        session = ReviewSession(store, info.series_instance_uid, "Doe^Jane", current_model=study.model.model_id)
        session.accept("f1")
        session.sign_off()
    rc = main(["export", info.series_instance_uid, "--db", str(db), "--format", "sr", "--out",
               str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 0 and "no map for finding f1" in err and "fraction of a voxel" in err
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["seg.dcm", "sr.dcm"]
