"""Saliency maps belong to their store: two stores in one folder keep separate maps.

Two real ``nodulelens screen`` processes (the shipped occlusion model, CPU) screen the same phantom
CT at once into two stores in one folder; each store's findings point into its own
``<store file>.saliency/<series>/`` (0700) and nothing is written to a shared ``saliency/``.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from review_phantom_dicom import small_phantom, write_ct_series

from viewer.review.saliency_dir import saliency_root, series_saliency_dir
from viewer.review.store import Store

REPO = Path(__file__).resolve().parents[3]


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_series_folder_is_private_and_stays_inside_its_store(tmp_path: Path) -> None:
    store = tmp_path / "reading.db"
    folder = series_saliency_dir(store, "1.2.840.5")
    assert folder == tmp_path / "reading.db.saliency" / "1.2.840.5"
    assert mode(folder) == 0o700 and mode(folder.parent) == 0o700
    hostile = series_saliency_dir(store, "../../etc/x")
    assert hostile.parent == saliency_root(store) and hostile.name == "_.._etc_x"


def test_two_stores_in_one_folder_keep_separate_saliency_files(tmp_path: Path) -> None:
    study, series = write_ct_series(small_phantom().volume, tmp_path / "scans" / "s1", "P-SAL")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    runs = [subprocess.Popen([sys.executable, "-m", "viewer.cli", "screen", str(tmp_path / "scans"), "--db",
                              str(tmp_path / name), "--model", "nodulelens-cnn-v2", "--device", "cpu",
                              "--threads", "1"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True) for name in ("a.db", "b.db")]
    for run in runs:
        out, _ = run.communicate(timeout=240)
        assert run.returncode == 0, out
    maps = {}
    for name in ("a.db", "b.db"):
        with Store(tmp_path / name, read_only=True) as store:
            paths = [Path(s.saliency_path) for s in store.stored_findings(series) if s.saliency_path]
        assert paths, f"{name}: the model gave no saliency map"
        own = tmp_path / f"{name}.saliency" / series
        assert all(p.parent == own and p.is_file() for p in paths), (name, paths)
        assert mode(own.parent) == 0o700
        maps[name] = set(paths)
    assert not maps["a.db"] & maps["b.db"]
    assert not (tmp_path / "saliency").exists()
