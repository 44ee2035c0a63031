"""A second process for the store tests (run as a script, not collected by pytest).

    python review_store_child.py decide DB N      accept/comment N times, print each committed seq
    python review_store_child.py readonly DB      open a read-only store, try a decision, print JSON
    python review_store_child.py forced-readonly DB   the same with Store(DB, read_only=True)
    python review_store_child.py open DB          try to open, print the error type and message
    python review_store_child.py full DB          fill the store, keep actions pending, print them, wait
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from viewer.review.errors import StoreWriteError
from viewer.review.model import Decision
from viewer.review.session import ReviewSession
from viewer.review.store import Store

SERIES = "1.2.826.0.1.3680043.8.498.1.1"


def decide(db: str, n: int, tag: str) -> None:
    store = Store(db)
    for i in range(n):
        fid = f"f{i % 3 + 1}"
        decision = Decision.ACCEPTED if i % 2 else Decision.COMMENTED
        rec = store.append_decision(SERIES, fid, decision, f"reviewer {tag}", previous={}, new={"i": i},
                                    comment=f"{tag}:{i}")
        print(rec.seq, flush=True)  # only after the commit returned
    store.close()


def readonly(db: str, force: bool) -> None:
    store = Store(db, read_only=force)
    study = store.reviewed_study(SERIES)
    session = ReviewSession(store, SERIES, "Dr Read Only")
    err = ""
    try:
        session.accept("f1")
    except StoreWriteError as exc:
        err = f"{type(exc).__name__}: {exc}"
    print(json.dumps({"read_only": store.read_only, "findings": len(study.findings), "error": err,
                      "pending": [p.finding_id for p in session.pending],
                      "status": session.state("f1").status.value}))


def full(db: str) -> None:
    """Make the store full (SQLite's page limit), decide until writes fail, then make two more
    decisions that stay pending; print them and wait to be killed."""
    import contextlib
    import time

    from viewer.review.errors import StoreFull
    from viewer.review.model import RejectReason

    store = Store(db)
    session = ReviewSession(store, SERIES, "Dr Kill")
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")
    with contextlib.suppress(StoreFull):
        for i in range(500):
            session.comment("f2", "a long comment " * 40 + str(i))
    for act in (lambda: session.accept("f1"), lambda: session.reject("f3", RejectReason.VESSEL, "<b>x</b>")):
        with contextlib.suppress(StoreFull):
            act()
    print(json.dumps([{"finding_id": p.finding_id, "decision": p.decision.value, "at": p.at.isoformat(),
                       "comment": p.comment} for p in session.pending]), flush=True)
    time.sleep(600)


def try_open(db: str) -> None:
    try:
        Store(db)
        print(json.dumps({"error": ""}))
    except Exception as exc:
        print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))


if __name__ == "__main__":
    if sys.argv[1] == "open":
        try_open(sys.argv[2])
    elif sys.argv[1] == "full":
        full(sys.argv[2])
    elif sys.argv[1] == "decide":
        decide(sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else "a")
    else:
        readonly(sys.argv[2], force=sys.argv[1] == "forced-readonly")
