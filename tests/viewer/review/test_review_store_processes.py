"""The store across processes: SIGKILL mid-stream, two writers at once, a read-only store."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from review_fixtures import SERIES, add_screened_series

from viewer.review.store import Store

CHILD = Path(__file__).with_name("review_store_child.py")
REPO = Path(__file__).resolve().parents[3]


def _child(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(CHILD), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=REPO, **kw)


def test_sigkill_mid_stream_loses_no_committed_decision(store_path: Path) -> None:
    with Store(store_path) as s:
        add_screened_series(s)
    proc = _child("decide", str(store_path), "100000")
    reported: list[int] = []
    assert proc.stdout is not None
    while len(reported) < 60:
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else "child ended early"
        reported.append(int(line))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    reported += [int(x) for x in proc.stdout.read().split()]  # lines printed before the kill
    with Store(store_path) as s:
        stored = {d.seq for d in s.decisions(SERIES)}
        assert set(reported) <= stored
        assert s._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        audit = [a for a in s.audit_log(SERIES) if a.action.startswith("decision:")]
        assert len(audit) == len(stored), "each decision has its audit row, in the same transaction"


def test_two_processes_writing_at_once(store_path: Path) -> None:
    with Store(store_path) as s:
        add_screened_series(s)
    procs = [_child("decide", str(store_path), "40", tag) for tag in ("a", "b")]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    with Store(store_path) as s:
        decisions = s.decisions(SERIES)
        assert len(decisions) == 80
        assert sorted(d.seq for d in decisions) == sorted(int(x) for o, _ in outs for x in o.split())
        for tag in ("a", "b"):  # each writer's decisions are all there, in its own order
            mine = [int(d.comment.split(":")[1]) for d in decisions if d.comment.startswith(tag + ":")]
            assert mine == list(range(40))
        assert s._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


#: root ignores file permissions; without CAP_DAC_OVERRIDE it obeys them like any user
NO_DAC = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
          "--bounding-set=-dac_override,-dac_read_search"]
CAN_DROP = os.geteuid() != 0 or shutil.which("setpriv") is not None


def _check_read_only(mode: str, db: Path, prefix: list[str] | None = None, error: str = "StoreReadOnly") -> None:
    proc = subprocess.Popen([*(prefix or []), sys.executable, str(CHILD), mode, str(db)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    result = json.loads(out)
    assert result["read_only"] is True and result["findings"] == 3
    assert result["error"].startswith(error) and str(db) in result["error"]
    assert "pending" in result["error"]
    assert result["pending"] == ["f1"] and result["status"] == "pending"
    conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
    assert conn.execute("SELECT COUNT(*) FROM decisions").fetchone()[0] == 0
    conn.close()


@pytest.mark.skipif(not CAN_DROP, reason="running as root without setpriv: permissions are not enforced")
def test_read_only_file_and_folder_open_for_reading_and_keep_decisions_pending(tmp_path: Path) -> None:
    db = tmp_path / "ro" / "store.db"
    with Store(db) as s:
        add_screened_series(s)
    os.chmod(db, 0o444)  # a clean close leaves no -wal/-shm
    os.chmod(db.parent, 0o555)
    try:
        # the journal beside the store cannot be written in a read-only folder either: said so
        _check_read_only("readonly", db, NO_DAC if os.geteuid() == 0 else None, error="JournalWriteError")
    finally:
        os.chmod(db.parent, 0o755)


@pytest.mark.skipif(not CAN_DROP, reason="running as root without setpriv: permissions are not enforced")
def test_unreadable_store_is_a_permission_error_not_corruption(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    Store(db).close()
    before = db.read_bytes()
    os.chmod(db, 0o000)
    try:
        proc = subprocess.run([*(NO_DAC if os.geteuid() == 0 else []), sys.executable, str(CHILD), "open",
                               str(db)], capture_output=True, text=True, cwd=REPO, timeout=60)
    finally:
        os.chmod(db, 0o600)
    result = json.loads(proc.stdout)
    assert result["error"] == "ReviewError" and "permissions" in result["message"]
    assert str(db) in result["message"]
    assert db.read_bytes() == before and not list(tmp_path.glob("*.bak"))


def test_store_opened_read_only_keeps_decisions_pending(store_path: Path) -> None:
    with Store(store_path) as s:
        add_screened_series(s)
    _check_read_only("forced-readonly", store_path)
