"""The reader's operating point per study: stored in the real SQLite store, audited with the
model card's expected figures, and what sign-off asks a decision for."""

from __future__ import annotations

import json

import pytest
from review_fixtures import add_screened_series

from inference.training.operating_table import load_table
from viewer.review.errors import ReviewError
from viewer.review.operating_point import (AUDIT_ACTION, card_table, operating_point, readout_lines,
                                           record_operating_point)
from viewer.review.session import ReviewSession
from viewer.review.store import Store


@pytest.fixture()
def store(tmp_path):
    s = Store(tmp_path / "review.db")
    yield s
    s.close()


def test_the_screened_point_is_the_cards_and_a_change_is_stored_and_audited(store) -> None:
    series = add_screened_series(store)
    assert operating_point(store, series) == 0.5  # the model's operating threshold at screening
    table = card_table("nodulelens-cnn-v2")
    assert record_operating_point(store, series, 0.65, "dr a", table)
    assert not record_operating_point(store, series, 0.65, "dr a", table)  # unchanged: no new row
    assert operating_point(store, series) == 0.65
    rows = [r for r in store.audit_log(series) if r.action == AUDIT_ACTION]
    assert len(rows) == 1 and rows[0].actor == "dr a"
    detail = json.loads(rows[0].detail)
    assert detail["from"] == 0.5 and detail["to"] == 0.65
    phantoms = detail["expected"][0]
    assert phantoms["row_threshold"] == 0.65 and "phantoms" in phantoms["data"]
    assert 0.0 <= phantoms["sensitivity_ci95"][0] <= phantoms["sensitivity"] <= phantoms["sensitivity_ci95"][1]
    with pytest.raises(ReviewError, match="not a score in 0..1"):
        record_operating_point(store, series, 1.2, "dr a")


def test_sign_off_asks_for_findings_at_or_above_the_point_only(store) -> None:
    series = add_screened_series(store)  # AI scores 0.9 (f1), 0.7 (f2), 0.4 (f3); point 0.5
    session = ReviewSession(store, series, "dr a")
    assert session.undecided_ai() == ["f1", "f2"]
    record_operating_point(store, series, 0.3, "dr a")  # the reader lowers the point: f3 is presented
    assert session.undecided_ai() == ["f1", "f2", "f3"]
    record_operating_point(store, series, 0.8, "dr a")
    assert session.undecided_ai() == ["f1"]


def test_readout_reads_the_card_and_says_which_data() -> None:
    table = card_table("nodulelens-cnn-v2")
    at_card = readout_lines(table, 0.8)
    assert len(at_card) == len(table.sets) == 2
    assert at_card[0].startswith("held-out inference.phantom phantoms (20 scans, 60 nodules): sensitivity 72%")
    assert "0.00 FP/scan" in at_card[0] and "95% CI" in at_card[0]
    assert "held-out synthetic chests (20 scans, 47 nodules)" in at_card[1] and "0.45 FP/scan" in at_card[1]
    lower = readout_lines(table, 0.5)
    assert "2.05 FP/scan" in lower[0]  # more findings, more false positives
    assert "[table row 0.9]" in readout_lines(table, 0.93)[0]
    assert readout_lines(card_table("classical"), 0.5) == [
        "the model card has no operating-point table: no expected figures"]


def test_the_table_matches_the_cards_own_evaluation_at_its_point() -> None:
    """The card's FROC summary (evaluation[0], same held-out phantoms) at the operating point."""
    from inference.detection.registry import load_manifest

    m = load_manifest("nodulelens-cnn-v2")
    card = json.loads(m.manifest_path.read_text())
    table = load_table(m.manifest_path)
    row = table.sets[0].at(m.operating_threshold)
    assert row.sensitivity == pytest.approx(card["evaluation"][0]["sensitivity_at_operating_point"], abs=1e-3)
    assert row.fps_per_scan == pytest.approx(card["evaluation"][0]["fps_per_scan_at_operating_point"], abs=1e-3)
    synth = table.sets[1].at(m.operating_threshold)
    assert synth.fps_per_scan == pytest.approx(card["evaluation"][1]["fps_per_scan_at_operating_point"], abs=1e-3)
