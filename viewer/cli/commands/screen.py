"""``nodulelens screen DIR``: detect and analyse every CT series under a folder into the review store.

Runs the same inference worker as the GUI (torch stays out of this process). Resumable: series
already screened are skipped unless ``--force``. A series that cannot be read or analysed is
logged with its error and skipped. Exit status 0 when no series failed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys

HELP = "screen every CT series under a folder: detection + analysis into the review store"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", help="folder tree holding DICOM CT series")
    parser.add_argument("--db", default=None, metavar="PATH",
                        help="review store (default: NODULELENS_DB, the settings, then the user data folder)")
    parser.add_argument("--model", default=None, help="model id (see `nodulelens models list`)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"),
                        help="auto = CUDA, then Apple MPS, then CPU (default: auto)")
    parser.add_argument("--force", action="store_true",
                        help="screen again series that were already screened (not reviewed ones)")
    parser.add_argument("--no-saliency", action="store_true", help="skip the Grad-CAM maps")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for the worker")


def run(args: argparse.Namespace) -> int:
    from inference.service.client import InferenceClient
    from viewer.cli.progress_bar import ProgressBar
    from viewer.review.screening import Detection, Eta, SeriesJob, screen_folder
    from viewer.review.settings import ReviewSettings, default_store_path
    from viewer.review.store import Store

    path = default_store_path(args.db, ReviewSettings())
    bar = ProgressBar("screen")
    eta = Eta()

    def progress(fraction: float, message: str) -> None:
        left = eta.remaining(fraction)
        bar(fraction, (f"ETA {left:4.0f}s " if left is not None else "ETA  ... ") + message)

    def log(line: str) -> None:
        if bar.tty:
            sys.stderr.write("\n")
        print(line, flush=True)

    with Store(path) as store, InferenceClient(model=args.model, device=args.device,
                                               torch_threads=args.threads) as client:
        saliency_root = store.path.parent / "saliency"

        def detect(job: SeriesJob, sub) -> Detection:
            reply = client.detect(job.folder, series_uid=job.series_uid, analyze=True,
                                  saliency=not args.no_saliency,
                                  saliency_dir=None if args.no_saliency else saliency_root / job.series_uid,
                                  progress=sub)
            for w in reply.warnings:
                log(f"{job.folder}: note: {w}")
            return Detection(reply.findings, reply.model, reply.threshold, reply.saliency,
                             reply.info.study_instance_uid)

        print(f"review store: {store.path}", flush=True)
        try:
            summary = screen_folder(args.folder, store, detect, force=args.force, progress=progress,
                                    log=log)
        finally:
            bar.done()
    print(summary.line())
    return 1 if summary.count("failed") else 0
