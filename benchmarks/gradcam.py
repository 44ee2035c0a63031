"""Grad-CAM time per finding, side by side with the target (<= 2 s per finding on CPU).

    .venv/bin/python benchmarks/gradcam.py [--model ID] [--top 10] [--threads 2]

Scan: the 512x512x300 phantom (seed 7, 3 random nodules); explains the top N candidates in one
call of inference.saliency.gradcam.explain (batched crops) and reports seconds per finding.
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
    p.add_argument("--top", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")
    a = p.parse_args()
    import torch

    torch.set_num_threads(a.threads)
    from inference.detection.detector import load_detector
    from inference.phantom import make_phantom
    from inference.saliency.gradcam import explain

    det = load_detector(a.model, a.device)
    if det.net is None:
        print(f"model {det.model_info.model_id} has no network to explain")
        return 1
    vol = make_phantom(7, n_random=3).volume
    found = det.candidates(vol)[: a.top]
    t = time.perf_counter()
    maps = explain(det, vol, found)
    dt = time.perf_counter() - t
    per = dt / max(len(maps), 1)
    print(f"model {det.model_info.model_id}, device {det.device}, torch threads {a.threads}")
    print(f"{'figure':34s} {'measured':>9s} {'target':>9s}")
    print(f"{'Grad-CAM s per finding (' + str(len(maps)) + ')':34s} {per:9.3f} {2.0:9.1f}")
    rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    print(f"{'peak RSS GB (this process)':34s} {rss_gb:9.2f} {4.0:9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
