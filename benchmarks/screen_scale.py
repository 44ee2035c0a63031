"""Benchmark: scans per hour of ``nodulelens screen`` in one process vs ``--ray`` with N workers.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/screen_scale.py [--scans 10] [--workers 2]
        [--model ID] [--device auto|cpu|cuda] [--gpus-per-scan F] [--shape Z Y X] [--ray ADDRESS]

Writes ``--scans`` phantom CT series (one nodule each, the same files for both runs), then runs the
real command twice as separate processes, each into its own new store:

1. ``nodulelens screen DIR`` (one inference worker, every CPU thread),
2. ``nodulelens screen DIR --ray auto --workers N`` (a private local Ray instance unless ``--ray``
   names a cluster; N actors, one model load each).

For each it prints the end-to-end wall time (start-up, model loads and Ray's own start included),
scans per hour end to end and in steady state (between the first and the last stored result,
from the store's ``screened_at``), and the median per-scan seconds the store recorded.

With ``--device cuda`` (or ``auto`` on a machine with a GPU) it also times each scan in this
process on the GPU (model loaded once, one warm-up scan), stage by stage, with the peak GPU
memory per scan: the figures the README's cluster estimate starts from.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def write_scans(root: Path, n: int, shape: tuple[int, int, int]) -> None:
    from inference.imaging.dicom_writer import write_series
    from inference.phantom import NoduleSpec, make_phantom

    for i in range(n):
        ph = make_phantom(i, shape, (2.5, 0.8 * 512 / shape[1], 0.8 * 512 / shape[2]),
                          nodules=[NoduleSpec(None, 10.0 + i % 5)], noise_hu=20.0)
        write_series(ph.volume, root / f"scan{i:02d}", uid_seed=f"bench-screen-scale-{i}",
                     patient_id=f"BENCH{i:02d}")


def run_screen(label: str, scans: Path, db: Path, extra: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    cmd = [sys.executable, "-c", "import sys; from viewer.cli import main; sys.exit(main(sys.argv[1:]))",
           "screen", str(scans), "--db", str(db), *extra]
    print(f"[{label}] {' '.join(cmd[3:])}", flush=True)
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    tail = [ln for ln in proc.stdout.splitlines() if "scan(s):" in ln or ln.startswith("Ray:")]
    for ln in tail:
        print(f"[{label}] {ln}", flush=True)
    if proc.returncode not in (0, 1):
        print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n")
        raise SystemExit(f"{label}: screen exited with {proc.returncode}")
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT screened_at, screen_seconds, screen_device FROM series "
                        "WHERE screen_state='screened' ORDER BY screened_at").fetchall()
    conn.close()
    times = [datetime.fromisoformat(r[0]).timestamp() for r in rows]
    n = len(rows)
    steady = (n - 1) / (times[-1] - times[0]) * 3600 if n > 1 and times[-1] > times[0] else float("nan")
    return {"label": label, "n": n, "wall": wall, "per_hour": n / wall * 3600, "steady": steady,
            "scan_s": statistics.median(r[1] for r in rows if r[1] is not None) if rows else float("nan"),
            "device": rows[0][2] if rows else "-"}


def gpu_timings(scans: Path, model: str | None, device: str) -> None:
    """Per-scan stage times on the accelerator, in this process (torch is imported here)."""
    import torch

    from inference.service.ray_actor import ScanScreener

    if device == "auto" and not torch.cuda.is_available():
        print("no CUDA GPU here: per-scan GPU time not measured")
        return
    screener = ScanScreener(model, "cuda")
    folders = sorted(p for p in scans.iterdir() if p.is_dir())
    screener.screen(str(folders[0]), None)  # warm-up: kernels, cuDNN autotuning
    stages: dict[str, list[float]] = {}
    peaks = []
    for f in folders:
        torch.cuda.reset_peak_memory_stats()
        res = screener.screen(str(f), None)
        if res.reply is None:
            print(f"{f.name}: failed: {res.error_type}: {res.error}")
            continue
        peaks.append(torch.cuda.max_memory_allocated() / 2**30)
        for k, v in res.reply.timing.items():
            stages.setdefault(k, []).append(v)
        stages.setdefault("total in the worker", []).append(res.seconds)
    print(f"\nper-scan time on {screener.device}, model {screener.runtime.detector.model_info.model_id} "
          f"(median of {len(peaks)} scans after one warm-up):")
    for k, v in stages.items():
        print(f"  {k:<22} {statistics.median(v):8.3f} s")
    if peaks:
        print(f"  peak GPU memory per scan {max(peaks):.2f} GiB "
              f"(of {torch.cuda.get_device_properties(0).total_memory / 2**30:.0f} GiB)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scans", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--model", default=None)
    ap.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"))
    ap.add_argument("--gpus-per-scan", type=float, default=None)
    ap.add_argument("--shape", type=int, nargs=3, default=(48, 128, 128), metavar=("Z", "Y", "X"))
    ap.add_argument("--ray", default="auto", help="Ray address for the second run (default: a local instance)")
    ap.add_argument("--no-saliency", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the scans and stores")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="screen-scale-"))
    try:
        scans = work / "scans"
        t = time.perf_counter()
        write_scans(scans, args.scans, tuple(args.shape))
        print(f"{args.scans} phantom scans of {args.shape[0]}x{args.shape[1]}x{args.shape[2]} voxels written "
              f"in {time.perf_counter() - t:.1f} s ({os.cpu_count()} CPU)", flush=True)
        common = ["--device", args.device] + (["--model", args.model] if args.model else []) + \
            (["--no-saliency"] if args.no_saliency else [])
        if args.device in ("auto", "cuda"):
            gpu_timings(scans, args.model, args.device)
        single = run_screen("single", scans, work / "single.db", common)
        ray_args = [*common, "--ray", args.ray, "--workers", str(args.workers), "--threads", "1"]
        if args.gpus_per_scan:
            ray_args += ["--gpus-per-scan", str(args.gpus_per_scan)]
        on_ray = run_screen(f"ray x{args.workers}", scans, work / "ray.db", ray_args)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept: {work}")

    print(f"\n{'':<28}{single['label']:>16}{on_ray['label']:>16}")
    for key, name, fmt in (("n", "scans screened", "{:.0f}"), ("device", "device", "{}"),
                           ("wall", "wall time, end to end (s)", "{:.1f}"),
                           ("per_hour", "scans/hour, end to end", "{:.0f}"),
                           ("steady", "scans/hour, steady state", "{:.0f}"),
                           ("scan_s", "median s per scan (store)", "{:.2f}")):
        print(f"{name:<28}{fmt.format(single[key]):>16}{fmt.format(on_ray[key]):>16}")
    print(f"{'ray / single, end to end':<28}{'':>16}{on_ray['per_hour'] / single['per_hour']:>15.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
