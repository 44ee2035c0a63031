"""``nodulelens screen DIR``: detect and analyse every CT series under a folder into the review store.

Without ``--ray`` it runs the same inference worker as the GUI, one scan after another (torch
stays out of this process). With ``--ray auto|ADDRESS`` every scan goes to a pool of Ray actors
(one model load per worker; a GPU share each where the cluster has GPUs) and this process stores
the results as they arrive. Either way it is resumable: series already screened are skipped
unless ``--force``. A series that cannot be read or analysed is logged with its error and
skipped. Exit status 0 when no series failed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import socket
from typing import Any

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
    parser.add_argument("--threads", type=int, default=None, help="CPU threads per worker")
    cluster = parser.add_argument_group("screening on a Ray cluster (pip install 'nodulelens[cluster]')")
    cluster.add_argument("--ray", default=None, metavar="auto|ADDRESS",
                         help="run each scan on a Ray cluster: 'auto' joins the cluster of this machine "
                              "(or starts one here), ADDRESS is the head node's HOST:PORT")
    cluster.add_argument("--workers", type=int, default=None, metavar="N",
                         help="Ray workers, each loading the model once (default: as many as the cluster holds)")
    cluster.add_argument("--gpus-per-scan", type=float, default=None, metavar="F",
                         help="share of a GPU per worker, e.g. 0.25 packs four on one GPU (default 1; "
                              "ignored on a cluster without GPUs)")
    cluster.add_argument("--max-retries", type=int, default=2, metavar="N",
                         help="times a scan is given to another worker after its worker died (default 2)")
    cluster.add_argument("--scan-timeout", type=float, default=1800.0, metavar="S",
                         help="seconds after which a scan's worker is stopped and the scan retried (default 1800)")


def run(args: argparse.Namespace) -> int:
    from viewer.cli.commands.screen_progress import ScreenBar
    from viewer.review.screening import plan
    from viewer.review.settings import ReviewSettings, default_store_path
    from viewer.review.store import Store

    if args.ray is not None:  # fail early, before the folder is walked, when Ray is missing
        from viewer.scale.cluster import import_ray
        import_ray()
    path = default_store_path(args.db, ReviewSettings())
    with Store(path) as store:
        print(f"review store: {store.path}", flush=True)
        todo = plan(args.folder, store, force=args.force, log=print)
        bar = ScreenBar(len(todo.jobs), skipped=len(todo.skipped))
        try:
            if args.ray is not None:
                summary = _on_ray(args, todo, store, bar)
            else:
                summary = _single_process(args, todo, store, bar)
        finally:
            bar.close()
    print(summary.line())
    return 1 if summary.count("failed") else 0


def _single_process(args: argparse.Namespace, todo: Any, store: Any, bar: Any) -> Any:
    from inference.service.client import InferenceClient
    from viewer.review.screen_runs import ScanPlacement
    from viewer.review.screening import Detection, SeriesJob, screen_jobs

    saliency_root = store.path.parent / "saliency"
    node = socket.gethostname()
    with InferenceClient(model=args.model, device=args.device, torch_threads=args.threads) as client:
        def detect(job: SeriesJob, sub: Any) -> Detection:
            reply = client.detect(job.folder, series_uid=job.series_uid, analyze=True,
                                  saliency=not args.no_saliency,
                                  saliency_dir=None if args.no_saliency else saliency_root / job.series_uid,
                                  progress=sub)
            return Detection(reply.findings, reply.model, reply.threshold, reply.saliency,
                             reply.info.study_instance_uid, ScanPlacement(reply.device, node),
                             reply.warnings)

        return screen_jobs(todo, store, detect, progress=bar.scan_progress, log=bar.write,
                           on_result=bar.result)


def _on_ray(args: argparse.Namespace, todo: Any, store: Any, bar: Any) -> Any:
    from viewer.scale.cluster import RayOptions
    from viewer.scale.driver import screen_on_ray

    opts = RayOptions(address=args.ray, workers=args.workers, gpus_per_scan=args.gpus_per_scan,
                      max_retries=args.max_retries, scan_timeout_s=args.scan_timeout, model=args.model,
                      device=args.device, torch_threads=args.threads, saliency=not args.no_saliency)
    return screen_on_ray(todo, store, opts, log=bar.write, on_result=bar.result)
