"""The review session's typed change events: what a widget subscribed to it hears, in order."""

from __future__ import annotations

import pytest
from review_fixtures import MODEL, SERIES

from viewer.review.errors import StoreFull
from viewer.review.events import (
    Events, FindingAdded, FindingDecided, PendingSaved, PendingWriteFailed, ReviewEvent, SelectionChanged,
    StudyChanged, StudyReopened, StudySignedOff,
)
from viewer.review.model import Decision, FindingStatus, RejectReason
from viewer.review.session import ReviewSession
from viewer.review.store import Store


def _recording(session: ReviewSession) -> list[ReviewEvent]:
    heard: list[ReviewEvent] = []
    session.events.connect(ReviewEvent, heard.append)  # every event (subclasses included)
    return heard


def test_a_decision_announces_the_new_state_then_the_decision(store: Store, screened: str) -> None:
    s = ReviewSession(store, SERIES, "Dr Ev")
    s.open()
    heard = _recording(s)
    s.accept("f1")
    assert [type(e) for e in heard] == [StudyChanged, FindingDecided]
    changed, decided = heard
    assert isinstance(changed, StudyChanged) and changed.study.findings[0].status is FindingStatus.ACCEPTED
    assert decided == FindingDecided(SERIES, "f1", Decision.ACCEPTED)
    heard.clear()
    s.undo()
    assert heard[-1] == FindingDecided(SERIES, "f1", Decision.RESET)
    assert s.state("f1").status is FindingStatus.PENDING


def test_selection_is_announced_once_and_moves_off_an_undone_add(store: Store, screened: str) -> None:
    s = ReviewSession(store, SERIES, "Dr Ev")
    selections: list[str | None] = []
    s.events.connect(SelectionChanged, lambda e: selections.append(e.finding_id))
    s.select("f2")
    s.select("f2")  # no change: nothing announced, but "shown" is logged once
    assert selections == ["f2"]
    assert [a.finding_id for a in store.audit_log(SERIES) if a.action == "shown"] == ["f2"]
    added: list[str] = []
    s.events.connect(FindingAdded, lambda e: added.append(e.finding_id))
    fid = s.add(center=(0.0, 0.0, -100.0), measured=(None, 5.0))
    assert added == [fid]
    s.select(fid)
    s.undo()  # the added finding is gone: the selection moves to the first undecided one
    assert selections == ["f2", fid, "f1"] and s.selected == "f1"


def test_write_failure_and_recovery_are_announced(store: Store, screened: str) -> None:
    s = ReviewSession(store, SERIES, "Dr Ev")
    failed: list[PendingWriteFailed] = []
    saved: list[PendingSaved] = []
    s.events.connect(PendingWriteFailed, failed.append)
    s.events.connect(PendingSaved, saved.append)
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreFull):
        for i in range(500):
            s.comment("f2", "a long comment " * 40 + str(i))
    assert failed and failed[-1].pending == len(s.pending) == 1
    assert isinstance(failed[-1].error, StoreFull) and not saved
    store._conn.execute("PRAGMA max_page_count = 1073741823")
    s.retry_pending()
    assert saved == [PendingSaved(SERIES)] and not s.pending


def test_sign_off_and_reopen_are_announced(store: Store, screened: str) -> None:
    s = ReviewSession(store, SERIES, "Dr Ev", current_model=MODEL.model_id)
    heard = _recording(s)
    for fid in ("f1", "f2"):
        s.accept(fid)
    s.reject("f3", RejectReason.VESSEL)
    s.sign_off()
    s.reopen("typo")
    kinds = [type(e) for e in heard]
    assert kinds.index(StudySignedOff) < kinds.index(StudyReopened)
    assert StudySignedOff(SERIES, "Dr Ev") in heard


def test_a_failing_subscriber_does_not_silence_the_others() -> None:
    events = Events()
    heard: list[ReviewEvent] = []

    def broken(_e: ReviewEvent) -> None:
        raise RuntimeError("subscriber bug")
    events.connect(PendingSaved, broken)
    events.connect(PendingSaved, heard.append)
    with pytest.raises(RuntimeError, match="subscriber bug"):
        events.emit(PendingSaved("1.2.3"))
    assert heard == [PendingSaved("1.2.3")]
    events.disconnect(PendingSaved, broken)
    events.emit(PendingSaved("1.2.3"))
    assert len(heard) == 2
