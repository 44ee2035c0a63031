"""A command that opens a store with a pending-actions journal says what it replayed (stderr)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from viewer.cli import main
from viewer.review.errors import StoreFull
from viewer.review.model import FindingStatus
from viewer.review.session import ReviewSession
from viewer.review.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "review"))
from review_fixtures import SERIES, add_screened_series  # noqa: E402 (after the path it needs)


def test_export_replays_the_journal_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "store.db"
    with Store(db) as store:
        add_screened_series(store)
        session = ReviewSession(store, SERIES, "Dr Cli")
        pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
        store._conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own 'disk full'
        with pytest.raises(StoreFull):
            for i in range(500):
                session.comment("f2", "a long comment " * 40 + str(i))
        with pytest.raises(StoreFull):
            session.accept("f1")  # pending, in the journal only; the window "crashes" here
    capsys.readouterr()
    rc = main(["export", SERIES, "--db", str(db), "--format", "json", "--out", str(tmp_path / "out.json")])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "nodulelens: 2 unsaved action(s) of Dr Cli on series" in err and ".journal" in err
    with Store(db, read_only=True) as store:
        states = {fs.finding.finding_id: fs.status for fs in store.reviewed_study(SERIES).findings}
    assert states["f1"] is FindingStatus.ACCEPTED
