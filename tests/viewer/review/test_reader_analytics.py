"""Reader analytics on a store with scripted reviews of the two real LIDC scans.

The findings are scripted at known world positions (no detector run); times are set explicitly, so
every figure below is computed by hand in the comments.
"""

from __future__ import annotations
from inference.domain.nodule import LungRads

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pydicom
import pytest

from inference.domain.finding import Box3D, Finding, FindingSource, ModelInfo
from viewer.cli import main
from viewer.review.errors import ReviewError
from viewer.review.model import Decision
from viewer.review.readers import reader_report
from viewer.review.store import Store

MODEL = ModelInfo("scripted", "1", "cd" * 32, "scripted detector", operating_threshold=0.80)
T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=timezone.utc)


def _uids(folder: Path) -> tuple[str, str]:
    first = next(p for p in sorted(folder.rglob("*.dcm")))
    ds = pydicom.dcmread(first, stop_before_pixels=True)
    return str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID)


def _f(fid: str, center: tuple[float, float, float], score: float,
       source: FindingSource = FindingSource.AI) -> Finding:
    return Finding(fid, center, Box3D.around(center, 10.0), score, source=source, diameter_mm=8.0)


def _at(s: float, base: datetime = T0) -> datetime:
    return base + timedelta(seconds=s)


def _decide(store: Store, uid: str, fid: str, d: Decision, who: str, t: datetime, **kw) -> int:
    return store.append_decision(uid, fid, d, who, previous={}, new={}, at=t, **kw).seq


@pytest.fixture(scope="module")
def scripted(tmp_path_factory, lidc1: Path, lidc2: Path) -> tuple[Path, str, str]:
    db = tmp_path_factory.mktemp("readers") / "store.db"
    (st1, s1), (st2, s2) = _uids(lidc1), _uids(lidc2)
    with Store(db) as store:
        store.add_series(st1, s1, lidc1, actor="screening")
        store.add_series(st2, s2, lidc2, actor="screening")
        # LIDC-0001: a1 2 mm from the LUNA16 nodule (56.21, 86.34, -115.87; 23.35 mm) -> hit;
        # a2 far from it -> false positive; a3 scores below the 0.80 operating point
        store.record_screening(s1, [_f("a1", (58.2, 86.3, -115.9), 0.96), _f("a2", (-80.0, 50.0, -150.0), 0.85),
                                    _f("a3", (0.0, 100.0, -100.0), 0.60)],
                               MODEL, flagged=True, highest_lung_rads=LungRads("4B"), highest_risk=0.3)
        # LIDC-0002 has no LUNA16 nodule; b1 sits on the ground-glass nodule listed in
        # annotations_excluded.csv (59.8, 71.5, -104.1), b2 nowhere near anything listed
        store.record_screening(s2, [_f("b1", (59.8, 71.5, -104.1), 0.91), _f("b2", (-60.0, 40.0, -200.0), 0.83)],
                               MODEL, flagged=True, highest_lung_rads=LungRads("3"), highest_risk=0.05)
        # alice reads LIDC-0001: a1 shown +5 s, accepted +15 s (10 s); a2 shown +20 s, accepted +24 s
        # (first decision: 4 s), undone +26 s, rejected +28 s; a3 shown +30 s, rejected +36 s (6 s);
        # open +0 s, sign-off +40 s (40 s)
        store.log("open", "alice", s1, at=_at(0))
        store.log("shown", "alice", s1, "a1", at=_at(5))
        _decide(store, s1, "a1", Decision.ACCEPTED, "alice", _at(15))
        store.log("shown", "alice", s1, "a2", at=_at(20))
        seq = _decide(store, s1, "a2", Decision.ACCEPTED, "alice", _at(24))
        _decide(store, s1, "a2", Decision.RESET, "alice", _at(26), undoes=seq)
        _decide(store, s1, "a2", Decision.REJECTED, "alice", _at(28), reason="vessel")
        store.log("shown", "alice", s1, "a3", at=_at(30))
        _decide(store, s1, "a3", Decision.REJECTED, "alice", _at(36), reason="scar/fibrosis")
        store.log("sign_off", "alice", s1, at=_at(40))
        # bob reads LIDC-0002 an hour later: b1 shown +3 s, accepted +15 s (12 s); b2 shown +16 s,
        # rejected +18 s (2 s); adds r1 at +25 s (no 'shown': not timed); sign-off +30 s (30 s)
        t1 = _at(3600)
        store.log("open", "bob", s2, at=t1)
        store.log("shown", "bob", s2, "b1", at=_at(3, t1))
        _decide(store, s2, "b1", Decision.ACCEPTED, "bob", _at(15, t1))
        store.log("shown", "bob", s2, "b2", at=_at(16, t1))
        _decide(store, s2, "b2", Decision.REJECTED, "bob", _at(18, t1), reason="artefact")
        _decide(store, s2, "r1", Decision.ADDED, "bob", _at(25, t1),
                added=_f("r1", (-100.0, -20.0, -180.0), 1.0, FindingSource.REVIEWER))
        store.log("sign_off", "bob", s2, at=_at(30, t1))
    return db, s1, s2


def test_reading_times_per_reader(scripted):
    db, _, _ = scripted
    with Store(db, read_only=True) as store:
        report = reader_report(store)
    assert report.n_series == 2 and not report.comparisons
    alice, bob = report.readers
    assert (alice.reader, bob.reader) == ("alice", "bob")
    # alice [4, 6, 10]: median 6; linear quartiles 4 + 0.5*2 = 5 and 6 + 0.5*4 = 8
    assert (alice.finding_times.n, alice.finding_times.median, alice.finding_times.q1,
            alice.finding_times.q3) == (3, 6.0, 5.0, 8.0)
    # bob [2, 12]: median 7, quartiles 2 + 0.25*10 = 4.5 and 2 + 0.75*10 = 9.5
    assert (bob.finding_times.median, bob.finding_times.q1, bob.finding_times.q3) == (7.0, 4.5, 9.5)
    assert (alice.study_times.n, alice.study_times.median) == (1, 40.0)
    assert (bob.study_times.n, bob.study_times.median) == (1, 30.0)
    assert alice.no_shown == 0 and bob.no_shown == 0


def test_accept_reject_by_score_band(scripted):
    db, _, _ = scripted
    with Store(db, read_only=True) as store:
        alice, bob = reader_report(store).readers
    bands = {b.label: (b.accepted, b.rejected) for b in alice.bands}
    # a1 0.96 accepted; a2 0.85 rejected (its undone accept does not count); a3 0.60 rejected
    assert bands == {"0.00-0.50": (0, 0), "0.50-0.80": (0, 1), "0.80-0.90": (0, 1),
                     "0.90-0.95": (0, 0), "0.95-1.00": (1, 0)}
    bands = {b.label: (b.accepted, b.rejected) for b in bob.bands}
    assert bands["0.90-0.95"] == (1, 0) and bands["0.80-0.90"] == (0, 1)  # b1 0.91, b2 0.83
    assert next(b for b in bob.bands if b.label == "0.90-0.95").accept_rate == 1.0


def test_ai_alone_versus_readers_against_luna16(scripted, luna_annotations: Path):
    db, _, _ = scripted
    with Store(db, read_only=True) as store:
        report = reader_report(store, luna_annotations)
    overall = report.comparisons[0]
    assert overall.group == "all readers"
    # AI at 0.80: a1 hit, a2 / b1 / b2 false positives (a3 is below the point): 1/1, 3 FP in 2 scans
    assert (overall.ai.hits, overall.ai.n_nodules, overall.ai.false_positives, overall.ai.n_scans) == (1, 1, 3, 2)
    assert overall.ai.sensitivity == 1.0 and overall.ai.fps_per_scan == 1.5
    # readers: a1 accepted (hit), b1 accepted and r1 added (false positives): 1/1, 2 FP -> 1.0 per scan
    assert (overall.readers.hits, overall.readers.false_positives, overall.readers.fps_per_scan) == (1, 2, 1.0)
    # the AI's FROC runs over all stored candidates: at its lowest score (0.60) 4 FP in 2 scans
    assert overall.ai_froc.fps_per_scan[-1] == 2.0 and overall.ai_froc.sensitivity[-1] == 1.0
    groups = {c.group: c for c in report.comparisons}
    assert set(groups) == {"all readers", "alice", "bob"}
    assert (groups["alice"].ai.false_positives, groups["alice"].readers.false_positives) == (1, 0)
    assert groups["bob"].ai.sensitivity is None and groups["bob"].readers.false_positives == 2


def test_excluded_findings_count_neither_way(scripted, luna_annotations: Path):
    db, _, _ = scripted
    with Store(db, read_only=True) as store:
        overall = reader_report(store, luna_annotations, luna_annotations.parent / "annotations_excluded.csv"
                                ).comparisons[0]
    # b1 lies on an excluded nodule: AI 2 FP (a2, b2), readers 1 FP (r1)
    assert (overall.ai.false_positives, overall.readers.false_positives) == (2, 1)


def test_command_writes_tables_and_froc_png(scripted, luna_annotations: Path, tmp_path: Path, capsys):
    db, _, _ = scripted
    out = tmp_path / "readers"
    assert main(["readers", "--db", str(db), "--reference", str(luna_annotations), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "alice: decision time per finding median 6.0 s (IQR 5.0-8.0, n=3)" in printed
    assert "all readers, AI alone at its operating point: sensitivity 1.000 (1/1), 1.50 FP/scan" in printed
    doc = json.loads((out / "report.json").read_text())
    assert doc["detection"][0]["readers_final"]["false_positives"] == 2
    png = (out / "froc.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert "0.95-1.00,1,0,1.000" in (out / "score_bands.csv").read_text()


def test_command_refuses_a_missing_store(tmp_path: Path, capsys):
    assert main(["readers", "--db", str(tmp_path / "none.db"), "--out", str(tmp_path)]) == 2
    assert "is not a review store file" in capsys.readouterr().err
    with pytest.raises(ReviewError):
        from viewer.cli.commands.readers import run
        import argparse
        run(argparse.Namespace(db=str(tmp_path / "none.db"), reference=None, excluded=None, out=str(tmp_path),
                               bands="0.5"))


def test_custom_score_bands(scripted, tmp_path: Path, capsys):
    db, _, _ = scripted
    assert main(["readers", "--db", str(db), "--out", str(tmp_path), "--bands", "0.9"]) == 0
    text = (tmp_path / "score_bands.csv").read_text()
    # alice: a2 0.85 and a3 0.60 rejected below 0.9, a1 0.96 accepted above
    assert "alice,0.00-0.90,0,2," in text and "alice,0.90-1.00,1,0,1.000" in text
    assert main(["readers", "--db", str(db), "--out", str(tmp_path), "--bands", "0.9,0.5"]) == 2
    assert "increasing scores" in capsys.readouterr().err


def test_a_store_from_before_the_clinical_migration_is_upgraded_and_read(tmp_path: Path, capsys, monkeypatch):
    import sqlite3

    from viewer.review import schema

    db = tmp_path / "old.db"
    before = schema.MIGRATIONS.index(schema._V_CLINICAL)
    with monkeypatch.context() as m:  # the store as a release before clinical_inputs wrote it
        m.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:before])
        m.setattr(schema, "SCHEMA_VERSION", before)
        with Store(db) as store:
            store.add_series("1.2.3", "1.2.3.4", "/data/old", actor="screening")
            _old_screening(store, _f("x1", (0.0, 0.0, 0.0), 0.9))
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == before
        assert not c.execute("SELECT name FROM sqlite_master WHERE name = 'clinical_inputs'").fetchall()
    assert main(["readers", "--db", str(db), "--out", str(tmp_path / "out")]) == 0
    assert "1 screened series in the store" in capsys.readouterr().out
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
        assert c.execute("SELECT COUNT(*) FROM findings").fetchone()[0] == 1
        assert c.execute("SELECT COUNT(*) FROM clinical_inputs").fetchone()[0] == 0


def _old_screening(store: Store, f) -> None:
    """A screening result in the columns the first release had (today's record_screening also
    writes columns added by later migrations)."""
    from viewer.review import codec

    at = "2024-01-01T00:00:00+00:00"

    def tx(c) -> None:
        c.execute("INSERT INTO findings VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", (
            "1.2.3.4", f.finding_id, "ai", MODEL.model_id, MODEL.version, MODEL.manifest_sha256,
            codec.geometry_json(f), f.score, None, None, None, at, "screening"))
        c.execute("UPDATE series SET screen_state='screened', screened_at=?, n_findings=1, highest_lung_rads='2', "
                  "highest_risk=0.01, model_id=? WHERE series_uid='1.2.3.4'", (at, MODEL.model_id))
    store.transaction("storing a first-release screening", tx)
