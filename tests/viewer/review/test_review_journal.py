"""The pending-actions journal: a real full store, a real SIGKILL, replay on the next open."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from review_fixtures import SERIES, add_screened_series

from viewer.review.errors import JournalWriteError, StoreFull
from viewer.review.events import PendingWriteFailed
from viewer.review.journal import Journal
from viewer.review.model import FindingStatus, RejectReason
from viewer.review.session import ReviewSession
from viewer.review.store import Store

CHILD = Path(__file__).with_name("review_store_child.py")
REPO = Path(__file__).resolve().parents[3]


def _fill(store: Store, session: ReviewSession) -> None:
    """SQLite's own 'disk full': no page may be added; comment until a write fails."""
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreFull):
        for i in range(500):
            session.comment("f2", "a long comment " * 40 + str(i))


def _unfill(store: Store) -> None:
    store._conn.execute("PRAGMA max_page_count = 1073741823")


def test_kill_during_a_full_disk_loses_no_action(store_path: Path) -> None:
    with Store(store_path) as s:
        add_screened_series(s)
        n_before = len(s.decisions(SERIES))
    proc = subprocess.Popen([sys.executable, str(CHILD), "full", str(store_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=REPO)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, proc.stderr.read() if proc.stderr else "child ended early"
    pending = json.loads(line)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert [(p["finding_id"], p["decision"]) for p in pending] == [
        ("f2", "commented"), ("f1", "accepted"), ("f3", "rejected")]
    journal = Journal.beside(store_path)
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600
    assert len(journal.live()) == 3

    with Store(store_path) as s:  # the next open replays them, with their reviewer and times
        assert len(s.journal_notes) == 1
        assert f"3 unsaved action(s) of Dr Kill on series {SERIES} were written from {journal.path}" \
            == s.journal_notes[0]
        stored = s.decisions(SERIES)[n_before:]
        committed_before_kill = len(stored) - 3
        assert [(d.finding_id, d.decision.value, d.reviewer) for d in stored[committed_before_kill:]] == [
            ("f2", "commented", "Dr Kill"), ("f1", "accepted", "Dr Kill"), ("f3", "rejected", "Dr Kill")]
        assert [d.at for d in stored[committed_before_kill:]] == [datetime.fromisoformat(p["at"]) for p in pending]
        assert stored[-1].comment == "<b>x</b>" and stored[-1].reason is RejectReason.VESSEL
        study = s.reviewed_study(SERIES)
        assert {fs.finding.finding_id: fs.status for fs in study.findings}["f1"] is FindingStatus.ACCEPTED
        replays = [a for a in s.audit_log(SERIES) if a.action == "journal_replay"]
        assert len(replays) == 1 and replays[0].actor == "Dr Kill" and '"applied": 3' in replays[0].detail
        n_after = len(s.decisions(SERIES))
    assert journal.path.stat().st_size == 0 and journal.live() == []
    with Store(store_path) as s:  # opening again applies nothing twice
        assert len(s.decisions(SERIES)) == n_after and s.journal_notes == []


def test_replay_is_idempotent_when_the_store_got_the_actions(store: Store, screened: str) -> None:
    session = ReviewSession(store, SERIES, "Dr A")
    _fill(store, session)
    with pytest.raises(StoreFull):
        session.accept("f1")
    journal = Journal.beside(store.path)
    kept = journal.path.read_bytes()  # as a crash right after the commit, before the journal is emptied
    assert len(journal.live()) == 2
    _unfill(store)
    session.retry_pending()
    assert not session.pending and journal.path.stat().st_size == 0  # emptied once all is written
    n = len(store.decisions(SERIES))
    journal.path.write_bytes(kept)
    with Store(store.path) as again:
        assert again.journal_notes == [] and len(again.decisions(SERIES)) == n
    assert journal.live() == []


def test_an_undone_pending_action_is_not_replayed(store: Store, screened: str) -> None:
    session = ReviewSession(store, SERIES, "Dr A")
    _fill(store, session)
    with pytest.raises(StoreFull):
        session.reject("f1", RejectReason.ARTEFACT)
    session.undo()  # drops the pending rejection: the journal says so
    assert [x["decision"] for x in Journal.beside(store.path).live()] == ["commented"]
    _unfill(store)
    store.close()
    with Store(store.path) as again:
        decided = [d.decision for d in again.decisions(SERIES) if d.finding_id == "f1"]
        assert decided == [] and "1 unsaved action(s) of Dr A" in again.journal_notes[0]


def test_a_journal_that_cannot_be_written_is_said_loudly(store: Store, screened: str) -> None:
    journal = Journal.beside(store.path)
    journal.path.mkdir()  # a folder where the journal file should be: every append fails
    session = ReviewSession(store, SERIES, "Dr A")
    failed: list[PendingWriteFailed] = []
    session.events.connect(PendingWriteFailed, failed.append)
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(JournalWriteError) as caught:
        for i in range(500):
            session.comment("f2", "a long comment " * 40 + str(i))
    text = str(caught.value)
    assert str(journal.path) in text and str(store.path) in text
    assert "pending only in this window" in text and "do not quit" in text
    assert isinstance(failed[-1].error, JournalWriteError) and len(session.pending) == 1
    held = session.pending[0]
    _unfill(store)
    journal.path.rmdir()
    session.retry_pending()
    assert not session.pending and store.decisions(SERIES)[-1].comment == held.comment
    assert store.decisions(SERIES)[-1].at == held.at


def test_undo_that_cannot_be_journaled_keeps_the_action(store: Store, screened: str) -> None:
    session = ReviewSession(store, SERIES, "Dr A")
    _fill(store, session)
    journal = Journal.beside(store.path)
    aside = journal.path.with_name("kept")
    journal.path.rename(aside)
    journal.path.symlink_to("/dev/full")  # a full disk for the journal too: every write fails
    try:
        with pytest.raises(JournalWriteError, match="No space left on device"):
            session.undo()
        assert len(session.pending) == 1, "the journal would replay it: the undo is refused, not lost"
    finally:
        journal.path.unlink()
        aside.rename(journal.path)
    session.undo()
    assert not session.pending and Journal.beside(store.path).live() == []


def test_actions_on_a_study_signed_off_since_are_held_and_said(store: Store, screened: str) -> None:
    from review_fixtures import MODEL

    session = ReviewSession(store, SERIES, "Dr A")
    _fill(store, session)
    held = session.pending[0]
    _unfill(store)
    other = ReviewSession(store, SERIES, "Dr B", current_model=MODEL.model_id)
    other.accept("f1")
    other.reject("f2", RejectReason.VESSEL)
    other.sign_off()
    store.close()
    with Store(store.path) as again:
        assert len(again.journal_notes) == 1
        assert again.journal_notes[0].startswith(f"1 unsaved action(s) of Dr A on series {SERIES} are held in ")
        assert "signed off since. Reopen it to apply them" in again.journal_notes[0]
        assert not [d for d in again.decisions(SERIES) if d.at == held.at]
    assert len(Journal.beside(store.path).live()) == 1  # kept, not lost


def test_a_line_torn_by_a_crash_does_not_swallow_the_next(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "s.db.journal")
    journal.append({"op": "pending", "id": "a", "series": SERIES})
    with journal.path.open("ab") as f:
        f.write(b'{"op": "pending", "id": "torn", "ser')  # the crash cut this line short
    journal.append({"op": "pending", "id": "b", "series": SERIES})
    assert [x["id"] for x in journal.live()] == ["a", "b"]
