"""``nodulelens screen --ray`` on a real local Ray instance (2 CPUs), started here and shut down after.

Six small phantom series and one with a truncated slice file: the Ray path stores the findings of
the single-process path; a Ray worker killed with SIGKILL costs a retry, not a scan; a scan that
keeps killing its workers is failed, not retried forever; a driver killed with SIGKILL loses
nothing stored and the next run screens only the rest.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import ray
from scale_scans import CORRUPT, write_scans

from inference.service.findings_file import load_saliency
from inference.service.ray_actor import WorkerInfo
from viewer.cli import main
from viewer.review.screen_runs import Engine, RunState, placement, runs
from viewer.review.screening import SeriesJob, plan
from viewer.review.store import Store
from viewer.scale.cluster import RayOptions
from viewer.scale.driver import screen_on_ray

REPO = Path(__file__).resolve().parents[3]
N_GOOD = 6
FAST = ["--model", "classical", "--device", "cpu", "--no-saliency", "--threads", "1"]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]


@pytest.fixture(scope="module")
def ray_address() -> str:
    ctx = ray.init(address="local", num_cpus=2, num_gpus=0, include_dashboard=False, log_to_driver=False,
                   object_store_memory=100 * 2**20, _node_ip_address="127.0.0.1")
    yield ctx.address_info["gcs_address"]
    ray.shutdown()


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scans")
    write_scans(root, N_GOOD)
    return root


def is_corrupt_file(screen_error: str) -> bool:
    """The stored failure names a damaged file: its type (before ': ') is CorruptFile or a kind of it."""
    from inference.imaging import errors

    name = screen_error.split(": ", 1)[0]
    return isinstance(getattr(errors, name, None), type) and issubclass(getattr(errors, name), errors.CorruptFile)


def _by_folder(store: Store) -> dict[str, dict]:
    out = {}
    for r in store.query("SELECT * FROM series"):
        findings = store.stored_findings(r["series_uid"])
        out[Path(r["scan_path"]).name] = {**r, "findings": findings,
                                          "screens": sum(a["action"] == "screen"
                                                         for a in store.series_actions(r["series_uid"]))}
    return out


def test_ray_stores_the_single_process_findings_and_the_corrupt_scan_failure(
        ray_address: str, scans: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    args = ["screen", str(scans), "--device", "cpu", "--threads", "1"]  # default model, with Grad-CAM
    single, on_ray = tmp_path / "single" / "s.db", tmp_path / "ray" / "s.db"
    assert main([*args, "--db", str(single)]) == 1  # one scan failed
    assert main([*args, "--db", str(on_ray), "--ray", ray_address, "--workers", "2"]) == 1
    out = capsys.readouterr().out
    assert "Ray: 2 worker(s), 1 CPU each" in out
    summaries = [ln for ln in out.splitlines() if ln.startswith("7 scan(s): 6 screened, 0 already")]
    assert len(summaries) == 2 and summaries[0] == summaries[1], out
    with Store(single) as a_store, Store(on_ray) as b_store:
        a, b = _by_folder(a_store), _by_folder(b_store)
        assert sorted(a) == sorted(b) and len(b) == N_GOOD + 1
        for name in a:
            ra, rb = a[name], b[name]
            for col in ("screen_state", "flagged", "highest_lung_rads", "n_findings", "model_id", "model_sha256"):
                assert ra[col] == rb[col], (name, col)
            assert (ra["highest_risk"] is None) == (rb["highest_risk"] is None), name
            if ra["highest_risk"] is not None:
                assert ra["highest_risk"] == pytest.approx(rb["highest_risk"], abs=1e-4), name
            assert [f.finding.finding_id for f in ra["findings"]] == [f.finding.finding_id for f in rb["findings"]]
            for fa, fb in zip(ra["findings"], rb["findings"], strict=True):
                assert fa.finding.score == pytest.approx(fb.finding.score, abs=1e-4), name
                assert np.allclose(fa.finding.center, fb.finding.center, atol=1e-3), name
                assert fa.finding.analysis == fb.finding.analysis
                assert Path(fb.saliency_path).is_file(), "the driver wrote the map the worker returned"
                assert Path(fb.saliency_path).parent == on_ray.with_name("s.db.saliency") / rb["series_uid"]
                sa, sb = load_saliency(fa.saliency_path), load_saliency(fb.saliency_path)
                assert np.allclose(sa.voxels, sb.voxels, atol=2 / 255) and np.allclose(sa.affine, sb.affine)
            assert ra["screens"] == rb["screens"] == (1 if name != CORRUPT else 0)
        broken = b[CORRUPT]
        assert broken["screen_state"] == "failed"
        assert is_corrupt_file(broken["screen_error"]) and "CT0011.dcm" in broken["screen_error"]
        assert broken["screen_error"] == a[CORRUPT]["screen_error"]
        good = [r for n, r in b.items() if n != CORRUPT]
        assert all(r["n_findings"] >= 1 and r["flagged"] for r in good)  # each phantom's nodule was found
        for r in good:
            where = placement(b_store, r["series_uid"])
            assert where is not None and where.device == "cpu" and where.node and where.seconds > 0
            assert placement(a_store, r["series_uid"]).device == "cpu"
        run = runs(b_store)[0]
        assert (run.engine, run.state, run.total, run.done, run.failed, run.workers) == (
            Engine.RAY, RunState.FINISHED, N_GOOD + 1, N_GOOD, 1, 2)
        assert run.per_minute and run.per_minute > 0 and run.eta_seconds == 0.0
        assert runs(a_store)[0].engine is Engine.SINGLE and runs(a_store)[0].done == N_GOOD


def test_killed_workers_are_replaced_and_a_scan_that_keeps_killing_them_fails(
        ray_address: str, scans: Path, tmp_path: Path) -> None:
    victim, poison = "p02", "p04"
    killed: list[tuple[str, int]] = []

    def kill_on_submit(job: SeriesJob, worker: WorkerInfo) -> None:
        name = Path(job.folder).name
        if name == poison or (name == victim and victim not in {n for n, _ in killed}):
            killed.append((name, worker.pid))
            os.kill(worker.pid, signal.SIGKILL)  # the Ray worker process holding the scan

    lines: list[str] = []
    with Store(tmp_path / "s.db") as store:
        opts = RayOptions(address=ray_address, workers=2, max_retries=1, model="classical", device="cpu",
                          saliency=False)
        summary = screen_on_ray(plan(scans, store), store, opts, log=lines.append, on_submit=kill_on_submit)
        assert Counter(n for n, _ in killed) == {victim: 1, poison: 2}
        assert len({pid for _, pid in killed}) == 3, "each retry ran in another worker process"
        assert summary.count("screened") == N_GOOD - 1 and summary.count("failed") == 2
        rows = _by_folder(store)
        assert rows[victim]["screen_state"] == "screened" and rows[victim]["screens"] == 1
        assert rows[victim]["n_findings"] >= 1
        assert rows[poison]["screen_state"] == "failed"
        assert rows[poison]["screen_error"].startswith("WorkerKeptDying: ")
        assert "its worker process died on 2 worker(s) in a row" in rows[poison]["screen_error"]
        assert is_corrupt_file(rows[CORRUPT]["screen_error"])
        assert sum("retry 1/1" in ln for ln in lines) == 2, lines
        run = runs(store)[0]
        assert (run.state, run.done, run.failed) == (RunState.FINISHED, N_GOOD - 1, 2)


def _screened(db: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1.0)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM series WHERE screen_state='screened'").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0  # not created yet, or mid-migration


def test_a_killed_driver_loses_nothing_and_the_rerun_screens_only_the_rest(
        ray_address: str, scans: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "s.db"
    args = ["screen", str(scans), "--db", str(db), *FAST, "--ray", ray_address, "--workers", "2"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    with open(tmp_path / "driver.log", "w") as log:
        driver = subprocess.Popen([sys.executable, "-c", "import sys; from viewer.cli import main; "
                                   "sys.exit(main(sys.argv[1:]))", *args], cwd=REPO, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 240
        while _screened(db) < 2 and driver.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait(30)
    assert driver.returncode == -signal.SIGKILL, (tmp_path / "driver.log").read_text()
    with Store(db) as store:
        before = {n: r for n, r in _by_folder(store).items() if r["screen_state"] == "screened"}
        assert 2 <= len(before) < N_GOOD, "the driver was killed mid-run"
        for r in before.values():  # what was stored is whole: findings, summary and device
            assert len(r["findings"]) == r["n_findings"] >= 1 and r["screen_device"] == "cpu"
        assert runs(store)[0].state is RunState.RUNNING  # as the killed driver left it
    assert main(args) == 1  # the corrupt scan fails again
    out = capsys.readouterr().out
    assert (f"7 scan(s): {N_GOOD - len(before)} screened, {len(before)} already screened (skipped), "
            f"{N_GOOD} flagged, 1 failed") in out
    with Store(db) as store:
        after = _by_folder(store)
        assert all(r["screen_state"] == "screened" and r["screens"] == 1 for n, r in after.items() if n != CORRUPT)
        for name, r in before.items():
            assert [f.finding for f in after[name]["findings"]] == [f.finding for f in r["findings"]]
        new, killed = runs(store)[:2]
        assert killed.state is RunState.INTERRUPTED and new.state is RunState.FINISHED
        assert (new.total, new.skipped, new.done, new.failed) == (N_GOOD + 1 - len(before), len(before),
                                                                   N_GOOD - len(before), 1)


def test_the_driver_takes_each_series_lease_and_leaves_others_their_series(
        ray_address: str, scans: Path, tmp_path: Path) -> None:
    """A series another screener holds waits for its lease to expire (then taken over, once); one it
    stored after this run's plan is not handed to a worker; every lease is released at the end."""
    from dataclasses import replace

    from inference.domain.finding import ModelInfo
    from viewer.review import leases

    other = "elsewhere.example:4242:9"
    submitted: list[str] = []
    lines: list[str] = []
    with Store(tmp_path / "s.db") as store:
        full = plan(scans, store)
        jobs = {Path(j.folder).name: j for j in full.jobs}
        held, stored = jobs["p01"], jobs["p03"]

        def on_submit(job: SeriesJob, _worker: WorkerInfo) -> None:
            submitted.append(Path(job.folder).name)
            if len(submitted) == 1:  # the other screener takes p01 just before the driver asks for it
                assert leases.acquire(store, held.series_uid, other, seen=held.screened_at, duration_s=3)[0] \
                    is leases.Claim.ACQUIRED

        store.record_screening(stored.series_uid, [], ModelInfo("other", "1", "cd" * 32), flagged=False,
                               highest_lung_rads=None, highest_risk=None, actor="other screener")
        p = replace(full, jobs=(jobs["p00"], held, stored))
        opts = RayOptions(address=ray_address, workers=2, model="classical", device="cpu", saliency=False)
        summary = screen_on_ray(p, store, opts, log=lines.append, lease_s=3.0, on_submit=on_submit)
        assert sorted(submitted) == ["p00", "p01"]  # p03 was never handed out
        assert (summary.count("screened"), summary.count("skipped")) == (2, 1)
        assert f"{held.folder}: being screened by {other}; waiting for its result" in lines
        rows = _by_folder(store)
        assert rows["p01"]["screens"] == rows["p03"]["screens"] == rows["p00"]["screens"] == 1
        assert rows["p03"]["model_id"] == "other"  # the other screener's result stands
        takeover = [json.loads(e.detail) for e in store.audit_log(held.series_uid) if e.action == "lease_takeover"]
        assert [(t["from"], t["reason"]) for t in takeover] == [(other, "expired")]
        assert leases.holders(store) == {}
        run = runs(store)[0]
        assert (run.total, run.skipped, run.done, run.failed) == (2, 1, 2, 0)
