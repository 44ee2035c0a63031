"""``nodulelens train``: the seeded training run, in a subprocess (torch stays out of this process).

Runs ``python -m inference.training`` with the same arguments and streams its log.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

HELP = "train the candidate CNN (seeded; writes weights + manifest under resources/models/<id>)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="resources/models/nodulelens-cnn-v2",
                        help="model folder to write (its name is the model id)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default="../shared/data",
                        help="folder with lidc/LIDC-IDRI-0001 and -0002 (read, never copied)")
    parser.add_argument("--synthetic", type=int, default=4, help="synthetic training chests (seeds 1000+)")
    parser.add_argument("--phantoms", type=int, default=60,
                        help="inference.phantom training phantoms (seeds 1000+)")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--cache", default=None,
                        help="patch cache (.npz, outside the repository): reused when it exists")
    parser.add_argument("--threads", type=int, default=2)


def command(args: argparse.Namespace) -> list[str]:
    return [sys.executable, "-m", "inference.training", "--out", str(args.out), "--seed",
            str(args.seed), "--data", str(args.data), "--synthetic", str(args.synthetic),
            "--phantoms", str(args.phantoms), "--epochs", str(args.epochs),
            "--threads", str(args.threads)] + (["--cache", str(args.cache)] if args.cache else [])


def run(args: argparse.Namespace) -> int:
    return subprocess.call(command(args))
