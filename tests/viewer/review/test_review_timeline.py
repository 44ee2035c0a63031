"""Patient timeline, stored follow-up comparisons, re-pair / un-pair decisions and `nodulelens followup`,
on a phantom follow-up pair written as two DICOM studies of one patient and a real SQLite store."""

from __future__ import annotations

import json
import shutil
import sqlite3

import numpy as np
import pytest

from inference.longitudinal import DifferentPatient, PriorNotEarlier, PriorUnavailable
from inference.phantom.followup import make_followup_phantom, write_followup
from viewer.cli import main
from viewer.review import schema
from viewer.review.comparisons import (compare_in_store, decide_pairing, ensure_dates, forced_pairs,
                                       latest_comparison, link_screened, undo_pairing)
from viewer.review.followup_export import followup_export, tracking_uid
from viewer.review.store import Store
from viewer.review.timeline import TimelineStudy, check_prior, choose_prior, patient_timeline, prior_of, study_for




@pytest.fixture(scope="module")
def written(tmp_path_factory):
    pair = make_followup_phantom(5, interval_days=365)
    return pair, write_followup(pair, tmp_path_factory.mktemp("fu"))


def test_timeline_orders_studies_and_finds_the_prior(tmp_path, written, screen_followup_pair):
    store, uids = screen_followup_pair(tmp_path / "review.sqlite", *written)
    assert prior_of(store, uids["current"]) is None  # dates unknown until the headers are read
    ensure_dates(store, uids["current"])
    studies, warnings = patient_timeline(store, written[0].current.info.patient_id)
    assert [s.series_uid for s in studies] == [uids["prior"], uids["current"]] and not warnings
    assert prior_of(store, uids["current"]).series_uid == uids["prior"]
    assert prior_of(store, uids["prior"]) is None
    choose_prior(store, uids["current"], uids["current"], "dr.a")
    with pytest.raises(PriorNotEarlier):
        check_prior(store, study_for(store, uids["current"]), prior_of(store, uids["current"]))
    choose_prior(store, uids["current"], None, "dr.a")  # back to the automatic prior
    assert prior_of(store, uids["current"]).series_uid == uids["prior"]
    assert [a.action for a in store.audit_log(uids["current"])].count("choose_prior") == 2
    with pytest.raises(PriorUnavailable, match="no CT series"):
        other = TimelineStudy("1.2.3", "", "", "20200101", "", "PHANTOM-FU-5")
        check_prior(store, study_for(store, uids["current"]), other)


def test_screen_links_the_prior_and_stores_the_comparison(tmp_path, written, screen_followup_pair):
    store, uids = screen_followup_pair(tmp_path / "review.sqlite", *written)
    said: list[str] = []
    link_screened(store, [uids["current"]], said.append, "screening")
    assert any("compared with the prior" in s for s in said), said
    data = latest_comparison(store, uids["current"])
    assert data["exam"]["lung_rads"] == "4B"
    statuses = sorted(n["status"] for n in data["nodules"])
    assert statuses == ["matched", "matched", "matched", "new", "resolved"]
    assert all(n["current_finding"] == n["prior_finding"] for n in data["nodules"] if n["status"] == "matched")
    assert store.series_row(uids["current"])["highest_lung_rads"] == "4B"  # the worklist shows the comparison
    assert "followup" in [a.action for a in store.audit_log(uids["current"])]
    # what the exports get: per current finding its comparison and a tracking UID kept across time points
    exp = followup_export(store, uids["current"])
    assert exp.exam_lung_rads == "4B" and exp.prior_date.isoformat() == "2024-03-02"
    assert sorted(exp.nodules) == ["T1-grow", "T2-grow", "T3-stable", "T5-new"]
    assert [r.prior_key for r in exp.resolved] == ["T4-resolved"]
    grown = exp.nodules["T1-grow"]
    assert grown.prior.mean_diameter_mm > 0 and grown.doubling_time_days > 0 and grown.lung_rads.value == "4B"
    assert exp.tracking_uids["T1-grow"] == tracking_uid(store, uids["prior"], "T1-grow")
    assert len(set(exp.tracking_uids.values())) == 4
    js = exp.as_json()
    assert js["nodules"]["T1-grow"]["prior"]["mean_diameter_mm"] == round(grown.prior.mean_diameter_mm, 1)
    assert js["nodules"]["T1-grow"]["tracking_uid"] == exp.tracking_uids["T1-grow"]


def test_repair_unpair_and_undo_are_audited_decisions(tmp_path, written, screen_followup_pair):
    store, uids = screen_followup_pair(tmp_path / "review.sqlite", *written)
    ensure_dates(store, uids["current"])
    decide_pairing(store, uids["current"], uids["prior"], "T3-stable", None, "dr.a")  # un-pair
    result, _ = compare_in_store(store, uids["current"])
    by = {(c.current_key, c.prior_key): c.status.value for c in result.nodules}
    assert by[("T3-stable", None)] == "new" and by[(None, "T3-stable")] == "resolved"
    decide_pairing(store, uids["current"], uids["prior"], "T5-new", "T4-resolved", "dr.a")  # the reader's pair
    assert forced_pairs(store, uids["current"], uids["prior"]) == {"T3-stable": None, "T5-new": "T4-resolved"}
    result, _ = compare_in_store(store, uids["current"])
    assert any(c.current_key == "T5-new" and c.prior_key == "T4-resolved" for c in result.nodules)
    undo_pairing(store, uids["current"], "dr.a")
    undo_pairing(store, uids["current"], "dr.a")
    assert forced_pairs(store, uids["current"], uids["prior"]) == {}
    actions = [a.action for a in store.audit_log(uids["current"])]
    assert actions.count("pairing:reset") == 2 and actions.count("pairing:unpair") == 1
    with pytest.raises(sqlite3.DatabaseError):  # append-only
        store._conn.execute("DELETE FROM pairings")


def test_bad_priors_are_typed_errors(tmp_path, written, screen_followup_pair):
    store, uids = screen_followup_pair(tmp_path / "review.sqlite", *written)
    ensure_dates(store, uids["current"])
    moved = tmp_path / "moved"
    shutil.copytree(written[1]["prior"], moved / "prior")
    store.add_series(written[0].prior.info.study_instance_uid, uids["prior"], moved / "gone", actor="test")
    with pytest.raises(PriorUnavailable, match="moved or deleted"):
        compare_in_store(store, uids["current"])
    said: list[str] = []
    link_screened(store, [uids["current"]], said.append, "screening")  # screening goes on: a baseline read
    assert len(said) == 1 and "read as a baseline" in said[0] and "moved or deleted" in said[0]
    assert latest_comparison(store, uids["current"]) is None
    store.add_series(written[0].prior.info.study_instance_uid, uids["prior"], moved / "prior", actor="test")
    store._conn.execute("UPDATE studies SET patient_id='OTHER' WHERE study_uid=?",
                        (written[0].prior.info.study_instance_uid,))
    assert prior_of(store, uids["current"]) is None  # another patient's study is never the prior
    with pytest.raises(DifferentPatient, match="OTHER|PHANTOM"):
        compare_in_store(store, uids["current"], prior_series_uid=uids["prior"])


def test_same_day_studies_warn(tmp_path, written, screen_followup_pair):
    store, uids = screen_followup_pair(tmp_path / "review.sqlite", *written)
    ensure_dates(store, uids["current"])
    store._conn.execute("UPDATE studies SET study_date='20250101'")
    _, warnings = patient_timeline(store, written[0].current.info.patient_id)
    assert len(warnings) == 1 and "share the date 20250101" in warnings[0]
    assert prior_of(store, uids["current"]) is None


def test_old_store_opens_and_gains_the_timeline(tmp_path):
    db = tmp_path / "old.sqlite"
    conn = sqlite3.connect(db)
    for st in schema._statements(schema.MIGRATIONS[0]):
        conn.execute(st)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO studies VALUES ('1.2', 'P1', '', '20240101', '', '2024-01-01')")
    conn.commit()
    conn.close()
    with Store(db) as store:
        assert schema.user_version(store._conn) == schema.SCHEMA_VERSION
        row = store.query("SELECT * FROM studies")[0]
        assert row["study_date"] == "20240101" and row["study_time"] == "" and row["issuer_of_patient_id"] == ""


def test_followup_command(tmp_path, written, screen_followup_pair, capsys):
    store, uids = screen_followup_pair(tmp_path / "review.sqlite", *written)
    store.close()
    out = tmp_path / "changes.json"
    rc = main(["followup", str(written[1]["current"]), "--db", str(tmp_path / "review.sqlite"), "--out", str(out)])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "MATCHED" in text and "NEW" in text and "RESOLVED" in text and "exam: Lung-RADS 4B" in text
    data = json.loads(out.read_text())
    assert data["format"] == "nodulelens-followup-v1" and data["prior_date"] == "2024-03-02"
    grown = [n for n in data["nodules"] if n["current_finding"] == "T1-grow"][0]
    truth = [n for n in written[0].nodules if n.key == "T1-grow"][0]
    assert grown["doubling_time_days"] == pytest.approx(truth.doubling_time_days(365), rel=0.25)
    rc = main(["followup", str(written[1]["prior"]), "--prior", str(written[1]["current"]),
               "--db", str(tmp_path / "review.sqlite"), "--out", str(out)])
    assert rc == 2 and "not before the current exam" in capsys.readouterr().err
    assert np.isfinite(data["registration"]["lung_dice"])


def test_a_reviewed_prior_gives_its_accepted_findings_only(tmp_path, written, screen_followup_pair):
    from inference.longitudinal.types import FindingOrigin
    from viewer.review.comparisons import nodule_inputs
    from viewer.review.model import RejectReason
    from viewer.review.session import ReviewSession

    store, uids = screen_followup_pair(tmp_path / "review.sqlite", *written)
    unreviewed = nodule_inputs(store, uids["prior"])
    assert {n.origin for n in unreviewed} == {FindingOrigin.AI_UNREVIEWED} and len(unreviewed) == 4
    s = ReviewSession(store, uids["prior"], "dr.a")
    s.reject("T3-stable", RejectReason.VESSEL)
    for key in ("T1-grow", "T2-grow", "T4-resolved"):
        s.accept(key)
    reviewed = nodule_inputs(store, uids["prior"])
    assert sorted(n.key for n in reviewed) == ["T1-grow", "T2-grow", "T4-resolved"]
    assert {n.origin for n in reviewed} == {FindingOrigin.AI}
    ensure_dates(store, uids["current"])
    result, _ = compare_in_store(store, uids["current"])
    stable = next(c for c in result.nodules if c.current_key == "T3-stable")
    assert stable.status.value == "new"  # its prior finding was rejected by the reader
