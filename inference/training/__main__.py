"""``python -m inference.training``: the seeded training run (see :mod:`inference.training.train`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m inference.training",
                                description="Train the candidate CNN (seeded, CPU or GPU).")
    p.add_argument("--out", type=Path, default=Path("resources/models/nodulelens-cnn-v2"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", type=Path, default=Path("../shared/data"),
                   help="folder holding lidc/LIDC-IDRI-0001 and -0002 (read, never copied)")
    p.add_argument("--synthetic", type=int, default=4, help="synthetic training chests (seeds 1000+)")
    p.add_argument("--phantoms", type=int, default=60,
                   help="inference.phantom training phantoms (seeds 1000+)")
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--cache", type=Path, default=None,
                   help="patch cache (.npz, outside the repository): reused when it exists")
    a = p.parse_args(argv)
    from inference.training.train import train

    data = a.data if a.data.exists() else None
    if data is None:
        print(f"warning: {a.data} not found; training on synthetic chests only", file=sys.stderr)
    info = train(a.out, seed=a.seed, data_root=data, n_synth=a.synthetic, epochs=a.epochs,
                 threads=a.threads, cache=a.cache, n_phantom=a.phantoms, log=lambda m: print(m, flush=True))
    print(f"wrote {a.out}/weights.pt and manifest.json in {info['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
