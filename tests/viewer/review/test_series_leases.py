"""Per-series leases: concurrent screeners of one store infer each series once.

The lease rules on a real store with a hand-moved clock; then two real ``nodulelens screen``
processes at once on one store, and a screener killed with SIGKILL whose lease is taken over.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from batch_scans import FAST, write_good
from review_fixtures import MODEL, SERIES, add_screened_series

from viewer.review import leases
from viewer.review.leases import Claim, LeaseLost
from viewer.review.store import Store

REPO = Path(__file__).resolve().parents[3]


def test_a_held_lease_waits_an_expired_one_is_taken_over_and_the_loser_stores_nothing(store: Store) -> None:
    add_screened_series(store)
    seen = store.series_row(SERIES)["screened_at"]
    now = [1000.0]

    def clock() -> float:
        return now[0]

    a, b = "host-a:11:1", "host-b:22:7"
    assert leases.acquire(store, SERIES, a, seen=seen, duration_s=10, clock=clock) == (Claim.ACQUIRED, "")
    now[0] = 1009.0
    assert leases.acquire(store, SERIES, b, seen=seen, duration_s=10, clock=clock) == (Claim.HELD, a)
    assert leases.renew(store, [SERIES], a, 10, clock=clock) == set()  # a works on: expiry 1019
    now[0] = 1018.0
    assert leases.acquire(store, SERIES, b, seen=seen, duration_s=10, clock=clock) == (Claim.HELD, a)
    now[0] = 1019.5  # a stopped renewing (killed): b takes over, audited
    assert leases.acquire(store, SERIES, b, seen=seen, duration_s=10, clock=clock) == (Claim.ACQUIRED, "")
    takeover = [e for e in store.audit_log(SERIES) if e.action == "lease_takeover"]
    assert len(takeover) == 1 and json.loads(takeover[0].detail)["from"] == a
    assert leases.holders(store) == {SERIES: b}

    # a, paused past its expiry, comes back: its renewal fails and its result is refused unwritten
    assert leases.renew(store, [SERIES], a, 10, clock=clock) == {SERIES}
    with pytest.raises(LeaseLost, match=f"being screened by {b}"):
        store.record_screening(SERIES, [], MODEL, flagged=False, highest_lung_rads=None, highest_risk=None,
                               guard=leases.guard(SERIES, a))
    assert len(store.reviewed_study(SERIES).findings) == 3 and store.screen_warnings(SERIES) == ()
    store.record_screening(SERIES, [], MODEL, flagged=False, highest_lung_rads=None, highest_risk=None,
                           warnings=["w1", "w1", "w2"], guard=leases.guard(SERIES, b))
    assert store.screen_warnings(SERIES) == ("w1", "w2")
    leases.release(store, SERIES, b)
    assert leases.holders(store) == {}

    # a third screener that planned before b stored its result is told DONE, not given the series
    assert leases.acquire(store, SERIES, "host-c:3:1", seen=seen, duration_s=10, clock=clock) == (Claim.DONE, "")
    assert leases.holders(store) == {}


def _screen(scans: Path, db: Path, *more: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "viewer.cli", "screen", str(scans), "--db", str(db), *FAST,
                             *more], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def _lease_holders(db: Path) -> list[str]:
    conn = sqlite3.connect(db, timeout=10)
    try:
        return [r[0] for r in conn.execute("SELECT holder FROM series_leases")]
    finally:
        conn.close()


def _screens_per_series(db: Path) -> Counter[str]:
    with Store(db, read_only=True) as store:
        return Counter(r["series_uid"] for r in store.query("SELECT series_uid FROM audit WHERE action='screen'"))


@pytest.mark.slow
def test_two_screen_processes_on_one_store_screen_every_series_exactly_once(tmp_path: Path) -> None:
    scans, db = tmp_path / "scans", tmp_path / "store.db"
    for i in range(3):
        write_good(scans, f"p{i}", 10 + i)
    with Store(db):
        pass  # created once, so the two runs do not race to create the file
    runs = [_screen(scans, db), _screen(scans, db)]
    outs = [p.communicate(timeout=180)[0] for p in runs]
    assert [p.returncode for p in runs] == [0, 0], outs
    per_series = _screens_per_series(db)
    assert len(per_series) == 3 and set(per_series.values()) == {1}, (per_series, outs)
    done = [re.search(r"3 scan\(s\): (\d+) screened, (\d+) already screened", o) for o in outs]
    assert all(done), outs
    assert sum(int(m.group(1)) for m in done if m) == 3  # the work was shared, none done twice
    with Store(db, read_only=True) as store:
        assert leases.holders(store) == {}  # every lease released
        assert all(r.screen_state == "screened" for r in store.worklist())


@pytest.mark.slow
@pytest.mark.parametrize("machine", ["this", "another"])
def test_the_lease_of_a_killed_screener_is_taken_over(machine: str, tmp_path: Path) -> None:
    """On this machine the ended process is seen at once; a holder on another machine (the killed
    process's lease rewritten as if it had run there) is waited for until its lease expires."""
    scans, db = tmp_path / "scans", tmp_path / "store.db"
    write_good(scans, "p0", 20)
    with Store(db):
        pass
    first = _screen(scans, db, "--lease-seconds", "3")
    holder = ""
    deadline = time.monotonic() + 60
    while not holder and time.monotonic() < deadline and first.poll() is None:
        holder = next(iter(_lease_holders(db)), "")
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)  # the screener and its inference worker, mid-series
    first.communicate(timeout=30)
    assert holder.endswith(f":{first.pid}:1"), holder  # host:pid:run
    assert _screens_per_series(db) == Counter()  # it stored nothing
    if machine == "another":
        holder, expires = f"elsewhere.example:{first.pid}:1", time.time() + 3
        conn = sqlite3.connect(db, timeout=10)
        with conn:
            conn.execute("UPDATE series_leases SET holder=?, expires_at=?", (holder, expires))
        conn.close()

    second = _screen(scans, db, "--lease-seconds", "3")
    out = second.communicate(timeout=180)[0]
    assert second.returncode == 0, out
    assert "1 scan(s): 1 screened" in out
    assert set(_screens_per_series(db).values()) == {1}
    with Store(db, read_only=True) as store:
        (uid,) = store.series_uids()
        takeover = [e for e in store.audit_log(uid) if e.action == "lease_takeover"]
        assert len(takeover) == 1, out
        detail = json.loads(takeover[0].detail)
        assert detail["from"] == holder
        if machine == "this":
            assert detail["reason"] == "its process on this machine has ended"
        else:
            assert detail["reason"] == "expired" and takeover[0].at.timestamp() >= expires
            assert f"being screened by {holder}; waiting for its result" in out
        assert leases.holders(store) == {}
