"""The store file: creation, permissions, migrations, append-only tables, refusal of bad files."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import pytest
from review_fixtures import MODEL, SERIES, STUDY, add_screened_series

from viewer.review import schema
from viewer.review.errors import StoreCorrupt, StoreFull, StoreTooNew, UnknownFinding, UnknownStudy
from viewer.review.model import Decision, FindingStatus, RejectReason, StudyStatus
from viewer.review.session import ReviewSession
from viewer.review.store import Store


def test_new_store_is_private_wal_and_current(store: Store, store_path: Path, screened: str) -> None:
    assert stat.S_IMODE(store_path.stat().st_mode) == 0o600
    for side in ("-wal", "-shm"):  # SQLite's side files hold patient data too
        assert stat.S_IMODE(Path(f"{store_path}{side}").stat().st_mode) == 0o600
    assert stat.S_IMODE(store_path.parent.stat().st_mode) == 0o700
    conn = sqlite3.connect(store_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    conn.close()


def test_screened_series_round_trips(store: Store, screened: str) -> None:
    study = store.reviewed_study(STUDY)
    assert study.series_instance_uid == SERIES and study.status is StudyStatus.NEW
    assert [fs.finding.finding_id for fs in study.findings] == ["f1", "f2", "f3"]
    assert study.findings[0].finding.score == pytest.approx(0.9)
    assert study.findings[0].finding.box.size == pytest.approx((8.0, 8.0, 8.0))
    assert study.model == MODEL
    assert store.reviewed_study("/data/scan1").series_instance_uid == SERIES
    assert [a.action for a in store.audit_log(STUDY)] == ["register", "screen"]


def test_unknown_study_and_finding_are_typed(store: Store, screened: str) -> None:
    with pytest.raises(UnknownStudy, match="Screen or open the scan first"):
        store.reviewed_study("1.2.3.4")
    with pytest.raises(UnknownFinding, match="f99"):
        store.append_decision(SERIES, "f99", Decision.ACCEPTED, "Dr A", previous={}, new={})


def test_decisions_and_audit_refuse_update_and_delete(store: Store, screened: str, store_path: Path) -> None:
    store.append_decision(SERIES, "f1", Decision.ACCEPTED, "Dr A", previous={}, new={})
    conn = sqlite3.connect(store_path)
    for sql in ("UPDATE decisions SET decision='rejected'", "DELETE FROM decisions",
                "UPDATE audit SET actor='x'", "DELETE FROM audit"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(sql)
    conn.close()
    assert [d.decision for d in store.decisions(SERIES)] == [Decision.ACCEPTED]


def test_reopening_keeps_everything(store_path: Path) -> None:
    with Store(store_path) as s:
        add_screened_series(s)
        ReviewSession(s, SERIES, "Dr A").accept("f2")
    with Store(store_path) as s:
        assert s.reviewed_study(SERIES).findings[1].status is FindingStatus.ACCEPTED
        assert s.reviewed_study(SERIES).findings[1].decided_by == "Dr A"


def _assert_refused(path: Path, match: str) -> None:
    before = path.read_bytes()
    with pytest.raises(StoreCorrupt, match=match) as info:
        Store(path)
    assert path.read_bytes() == before, "a refused store must never be changed"
    assert info.value.backup and Path(info.value.backup).read_bytes() == before
    assert "--db" in str(info.value) and str(path) in str(info.value)


def test_garbage_file_is_refused_with_backup(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    path.write_bytes(b"this is not a database\n" * 100)
    _assert_refused(path, "not an SQLite database")


def test_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (id INTEGER)")
    conn.commit()
    conn.close()
    _assert_refused(path, "not a NoduleLens review store")


def test_damaged_store_is_refused(store_path: Path) -> None:
    with Store(store_path) as s:
        add_screened_series(s)
        for i in range(200):
            s.log("shown", "Dr A", SERIES, "f1", {"pad": "x" * 500, "i": i})
    data = bytearray(store_path.read_bytes())
    page = 4096
    for off in range(2 * page, len(data), page):  # scribble over every page but the first two
        data[off + 8: off + 64] = b"\xff" * 56
    store_path.write_bytes(bytes(data))
    _assert_refused(store_path, "integrity|cannot be read|SQLite cannot (open|read)")


def test_store_from_a_newer_version_is_refused(store_path: Path) -> None:
    Store(store_path).close()
    conn = sqlite3.connect(store_path)
    conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StoreTooNew, match="newer NoduleLens"):
        Store(store_path)


def test_migration_from_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    with Store(path) as s:
        assert schema.user_version(s._conn) == schema.SCHEMA_VERSION


def test_full_disk_keeps_the_decision_pending_and_retries(store: Store, screened: str) -> None:
    session = ReviewSession(store, SERIES, "Dr A")
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own 'disk full'
    session.accept("f1")  # small enough to fit in the free pages? then fill them
    with pytest.raises(StoreFull, match="disk is full.*pending"):
        for i in range(500):
            session.comment("f2", "a long comment " * 40 + str(i))
    assert session.pending, "the failed action must be kept"
    kept = session.pending[-1]
    assert session.state("f1").status is FindingStatus.ACCEPTED
    n_before = len(store.decisions(SERIES))
    with pytest.raises(StoreFull):
        session.retry_pending()
    assert len(store.decisions(SERIES)) == n_before  # nothing half-written
    with pytest.raises(StoreFull):
        session.accept("f3")  # queued behind the first, in order
    with pytest.raises(StoreFull):
        session.reject("f3", RejectReason.LYMPH_NODE)
    assert [p.decision for p in session.pending] == [Decision.COMMENTED, Decision.ACCEPTED,
                                                     Decision.REJECTED]
    assert session.state("f3").status is FindingStatus.PENDING  # nothing shown as done
    store._conn.execute("PRAGMA max_page_count = 1073741823")
    session.retry_pending()
    assert not session.pending
    last3 = store.decisions(SERIES)[-3:]
    assert last3[0].comment == kept.comment.strip() and last3[0].at == kept.at
    assert json.loads(last3[2].previous_value)["status"] == "accepted"  # after the accept before it
    assert session.state("f3").status is FindingStatus.REJECTED
