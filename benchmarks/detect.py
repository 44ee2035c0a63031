"""Full-scan detection time and peak memory, side by side with the targets.

    .venv/bin/python benchmarks/detect.py [--model ID] [--threads 2] [--skip-phantom] [--skip-lidc]

Scans: the 512x512x300 phantom (inference.phantom.make_phantom, seed 7, 3 random nodules) and
LIDC-IDRI-0002 from ../shared/data. Time = Detector.detect end to end (lung mask, candidates,
CNN), after reading the scan. Target: <= 60 s each on 2 CPU cores; worker peak RSS <= 4 GB.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default=None)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--skip-phantom", action="store_true")
    p.add_argument("--skip-lidc", action="store_true")
    a = p.parse_args()
    import torch

    torch.set_num_threads(a.threads)
    from inference.detection.detector import load_detector
    from inference.training.scans import read_scan

    det = load_detector(a.model, a.device)
    scans = []
    if not a.skip_phantom:
        from inference.phantom import make_phantom

        scans.append(("phantom 512x512x300 (seed 7)", lambda: make_phantom(7, n_random=3).volume))
    lidc2 = REPO.parent / "shared" / "data" / "lidc" / "LIDC-IDRI-0002"
    if not a.skip_lidc and lidc2.exists():
        scans.append(("LIDC-IDRI-0002", lambda: read_scan(lidc2)))
    print(f"model {det.model_info.model_id}, device {det.device}, torch threads {a.threads}")
    print(f"{'scan':34s} {'shape':>16s} {'detect s':>9s} {'target s':>9s} {'findings':>9s}")
    for name, make in scans:
        vol = make()
        t = time.perf_counter()
        found = det.detect(vol)
        dt = time.perf_counter() - t
        print(f"{name:34s} {str(vol.shape):>16s} {dt:9.1f} {60.0:9.1f} {len(found):9d}")
        del vol
    rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    print(f"{'peak RSS GB (this process)':34s} {'':>16s} {rss_gb:9.2f} {4.0:9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
