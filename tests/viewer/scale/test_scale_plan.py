"""Pool sizing, run figures and the missing-Ray message: no cluster needed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from viewer.cli import main
from viewer.review.screen_runs import Engine, RunState, RunTracker, ScanPlacement, placement, runs
from viewer.review.store import Store
from viewer.scale.cluster import ClusterError, RayOptions, pool_shape

SERIES = "1.2.3.4"


def test_gpu_cluster_gets_fractional_gpu_workers() -> None:
    shape = pool_shape({"CPU": 32.0, "GPU": 2.0}, RayOptions(gpus_per_scan=0.25))
    assert (shape.workers, shape.num_gpus, shape.num_cpus) == (8, 0.25, 1.0)
    assert pool_shape({"CPU": 32.0, "GPU": 2.0}, RayOptions()).workers == 2  # one GPU each by default
    assert pool_shape({"CPU": 32.0, "GPU": 2.0}, RayOptions(workers=3, gpus_per_scan=0.5)).workers == 3
    crowded = pool_shape({"CPU": 32.0, "GPU": 1.0}, RayOptions(workers=2))
    assert (crowded.workers, crowded.fit) == (2, 1)  # the second waits for the GPU


def test_cpu_cluster_ignores_the_gpu_share_and_sizes_by_threads() -> None:
    shape = pool_shape({"CPU": 8.0}, RayOptions(gpus_per_scan=0.5, torch_threads=2))
    assert (shape.workers, shape.num_gpus, shape.num_cpus) == (4, 0.0, 2.0)
    assert pool_shape({"CPU": 8.0, "GPU": 1.0}, RayOptions(device="cpu")).num_gpus == 0.0
    with pytest.raises(ClusterError, match="fewer than one worker needs"):
        pool_shape({"CPU": 1.0}, RayOptions(torch_threads=4))


@pytest.mark.parametrize("kw, match", [({"workers": 0}, "at least 1"), ({"gpus_per_scan": 1.5}, r"\(0, 1\]"),
                                       ({"max_retries": -1}, "0 or more")])
def test_bad_options_are_typed_errors(kw: dict, match: str) -> None:
    with pytest.raises(ClusterError, match=match):
        RayOptions(**kw)


def test_run_figures_rate_and_eta_are_stored(tmp_path: Path) -> None:
    now = [0.0]
    with Store(tmp_path / "s.db") as store:
        stale = RunTracker.start(store, "/scans", Engine.RAY, 2, 5)
        run = RunTracker.start(store, "/scans", Engine.RAY, 2, 4, skipped=1, clock=lambda: now[0])
        assert [r.state for r in runs(store)] == [RunState.RUNNING, RunState.INTERRUPTED]
        assert stale.run_id != run.run_id
        now[0] = 60.0
        f = run.advance(ok=True)
        assert (f.done, f.failed, f.per_minute, f.eta_s) == (1, 0, 1.0, 180.0)
        now[0] = 120.0
        run.advance(ok=False)
        row = runs(store, "/scans")[0]
        assert (row.done, row.failed, row.skipped, row.total, row.workers) == (1, 1, 1, 4, 2)
        assert row.per_minute == pytest.approx(1.0) and row.eta_seconds == pytest.approx(120.0)
        assert run.finish().line() == "1 done, 1 failed of 4, 1.0/min, ETA 120s"
        assert runs(store)[0].state is RunState.FINISHED


def test_placement_is_stamped_on_the_series(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        store.add_series("1.2.3", SERIES, tmp_path, actor="test")
        assert placement(store, SERIES) is None
        run = RunTracker.start(store, "/scans", Engine.SINGLE, 1, 1)
        run.stamp(SERIES, ScanPlacement("cuda:0 (NVIDIA H200)", "10.0.0.7", 1.25))
        assert placement(store, SERIES) == ScanPlacement("cuda:0 (NVIDIA H200)", "10.0.0.7", 1.25)


def test_ray_asked_for_without_ray_says_how_to_install(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` does where it is not installed
    assert main(["screen", str(tmp_path), "--db", str(tmp_path / "s.db"), "--ray", "auto"]) == 2
    err = capsys.readouterr().err.strip()
    assert "needs the 'ray' package" in err and "pip install 'nodulelens[cluster]'" in err
    assert len(err.splitlines()) == 1


def test_a_store_from_before_screening_runs_opens_with_its_rows_unchanged(tmp_path: Path) -> None:
    import sqlite3

    from viewer.review import schema

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for statement in schema._statements(schema.MIGRATIONS[0]):  # the first schema, as shipped before
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO studies VALUES ('1.2', 'P1', '', '', '', '2025-01-01T00:00:00+00:00')")
    conn.execute("INSERT INTO series (series_uid, study_uid, scan_path, created_at, screen_state, n_findings) "
                 "VALUES (?, '1.2', '/scans/a', '2025-01-01T00:00:00+00:00', 'screened', 2)", (SERIES,))
    conn.commit()
    conn.close()
    with Store(path) as store:
        row = store.series_row(SERIES)
        assert (row["scan_path"], row["screen_state"], row["n_findings"]) == ("/scans/a", "screened", 2)
        assert placement(store, SERIES) is None and runs(store) == []
        assert store.is_screened(SERIES)
