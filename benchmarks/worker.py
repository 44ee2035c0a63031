"""Benchmark of the inference worker: start-up, scan hand-off, end-to-end detection, peak RSS.

    .venv/bin/python benchmarks/worker.py [--model ID] [--device auto|cpu|cuda] [--scans ...]

Prints each figure next to the issue's reference (full-scan detection <= 60 s end to end on
2 CPU cores; worker peak RSS <= 4 GB). Scans default to the 512x512x300 phantom and
../shared/data/lidc/LIDC-IDRI-0001 and -0002 (skipped where absent).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _peak_rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def main() -> int:
    from inference.imaging import load
    from inference.phantom import demo_phantom
    from inference.service.client import InferenceClient

    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--no-saliency", action="store_true")
    args = parser.parse_args()
    shared = REPO.parent / "shared" / "data" / "lidc"
    rows: list[tuple[str, str, str]] = []

    t = time.perf_counter()
    client = InferenceClient(model=args.model, device=args.device)
    ready = client.start()
    rows.append(("worker start (spawn + model load)", f"{time.perf_counter() - t:.1f} s", "-"))
    print(f"model {ready.model.model_id} {ready.model.version} on {ready.device}", flush=True)

    scans = [("phantom 512x512x300", demo_phantom().volume)]
    for name in ("LIDC-IDRI-0001", "LIDC-IDRI-0002"):
        if (shared / name).is_dir():
            scans.append((name, load(shared / name)))
    try:
        for name, volume in scans:
            t = time.perf_counter()
            shm, _ = client._share(volume)
            share_s = time.perf_counter() - t
            shm.close()
            shm.unlink()
            rows.append((f"{name}: hand-off to shared memory ({volume.nbytes / 1e6:.0f} MB)",
                         f"{share_s * 1000:.0f} ms", "no pickling of voxels"))
            t = time.perf_counter()
            reply = client.detect(volume, saliency=not args.no_saliency)
            total = time.perf_counter() - t
            stages = ", ".join(f"{k} {v:.1f}" for k, v in reply.timings)
            rows.append((f"{name}: detect end to end ({len(reply.findings)} findings; {stages})",
                         f"{total:.1f} s", "<= 60 s (2 CPU cores)"))
        rss = _peak_rss_mb(client.worker_pid)
        rows.append(("worker peak RSS", "n/a" if rss is None else f"{rss / 1024:.2f} GB", "<= 4 GB"))
    finally:
        client.close()
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'measured':>10}  reference")
    for name, value, ref in rows:
        print(f"{name:<{width}}  {value:>10}  {ref}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
