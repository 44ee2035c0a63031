"""``nodulelens screen DIR|--from-pacs NODE``: detect and analyse every CT series under a folder, or
of the studies found on a PACS node (pulled with their priors first), into the review store.

Without ``--ray`` it runs the same inference worker as the GUI, one scan after another (torch
stays out of this process). With ``--ray auto|ADDRESS`` every scan goes to a pool of Ray actors
(one model load per worker; a GPU share each where the cluster has GPUs) and this process stores
the results as they arrive. Either way it is resumable: series already screened are skipped
unless ``--force``. A series that cannot be read or analysed — also one next to a damaged file —
is logged with its typed error (naming the file) and recorded failed; the others are screened.
The loader's warnings about a scan are printed and stored with its series. Several screeners on
one store (two runs, or a run and ``--ray``) share the work through per-series leases: a series
is inferred once; one whose screener died is taken over after ``--lease-seconds``. With
``--from-pacs`` the studies whose series are all screened are not pulled again, and a study the
node cannot give is noted and the others go on. Exit status 0 when no series failed (and every
study was pulled), 1 otherwise; 2 only when nothing could be screened at all (a missing folder,
one without any DICOM file, a store that cannot be opened).
"""

from __future__ import annotations

import argparse
import socket
from typing import Any

from viewer.cli.saliency_help import NO_SALIENCY_HELP

HELP = "screen every CT series under a folder, or found on a PACS node: detection + analysis into the review store"

#: studies pulled at most by ``--from-pacs`` unless ``--limit`` says otherwise
PACS_LIMIT = 50


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from viewer.cli.commands.pacs import add_query_arguments

    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("folder", nargs="?", default=None, help="folder tree holding DICOM CT series")
    source.add_argument("--from-pacs", default=None, metavar="NODE",
                        help="find the studies on a configured PACS node (see `nodulelens pacs nodes`), pull "
                             "each with its priors into the archive and screen them")
    pacs = parser.add_argument_group("screening from a PACS node (with --from-pacs)")
    add_query_arguments(pacs, limit=PACS_LIMIT)
    pacs.add_argument("--priors-years", type=int, default=None,
                      help="priors pulled with each study, 0: none (default: settings, 5)")
    pacs.add_argument("--settings", default=None, metavar="FILE", help="settings file (default: the user's)")
    parser.set_defaults(_parser=parser)
    parser.add_argument("--db", default=None, metavar="PATH",
                        help="review store (default: NODULELENS_DB, the settings, then the user data folder)")
    parser.add_argument("--model", default=None, help="model id (see `nodulelens models list`)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"),
                        help="auto = CUDA, then Apple MPS, then CPU (default: auto)")
    parser.add_argument("--force", action="store_true",
                        help="screen again series that were already screened (not reviewed ones)")
    parser.add_argument("--no-saliency", action="store_true", help=NO_SALIENCY_HELP)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads per worker")
    parser.add_argument("--lease-seconds", type=_positive, default=None, metavar="S",
                        help="how long a series' lease lasts unrenewed: another screener of the same store "
                             "takes over the series of one that died after this long (default 120)")
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


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{value:g} is not a positive number of seconds")
    return value


def _lease_s(args: argparse.Namespace) -> float:
    from viewer.review.leases import DEFAULT_LEASE_S

    return float(args.lease_seconds) if args.lease_seconds is not None else DEFAULT_LEASE_S


def run(args: argparse.Namespace) -> int:
    from viewer.cli.commands.screen_progress import ScreenBar
    from viewer.review.screening import plan
    from viewer.review.settings import ReviewSettings, default_store_path
    from viewer.cli.open_store import open_store

    if args.ray is not None:  # fail early, before the folder is walked, when Ray is missing
        from viewer.scale.cluster import import_ray
        import_ray()
    if args.folder is not None and (args.patient or args.name or args.date or args.modality or args.web
                                    or args.priors_years is not None):
        args._parser.error("--patient/--name/--date/--modality/--web/--priors-years go with --from-pacs")
    path = default_store_path(args.db, ReviewSettings())
    with open_store(path) as store:
        print(f"review store: {store.path}", flush=True)
        not_pulled = 0
        if args.folder is not None:
            todo = plan(args.folder, store, force=args.force, log=print)
        else:
            todo, not_pulled = _from_pacs(args, store)
        bar = ScreenBar(len(todo.jobs), skipped=len(todo.skipped))
        try:
            if args.ray is not None:
                summary = _on_ray(args, todo, store, bar)
            else:
                summary = _single_process(args, todo, store, bar)
        finally:
            bar.close()
    print(summary.line() + (f", {not_pulled} stud(ies) not pulled" if not_pulled else ""))
    return 1 if summary.count("failed") or not_pulled else 0


def _from_pacs(args: argparse.Namespace, store: Any) -> tuple[Any, int]:
    from viewer.cli.commands.pacs import pacs_config, study_query
    from viewer.pacs.screen_from import plan_from_pacs

    found = plan_from_pacs(pacs_config(args), args.from_pacs, study_query(args), store,
                           priors_years=args.priors_years, prefer_web=args.web, force=args.force, log=print)
    for line in found.failed:
        print(f"not pulled: {line}")
    return found.plan, len(found.failed)


def _single_process(args: argparse.Namespace, todo: Any, store: Any, bar: Any) -> Any:
    from inference.service.client import InferenceClient
    from viewer.review.screen_runs import ScanPlacement
    from viewer.review.saliency_dir import saliency_root as store_saliency_root
    from viewer.review.screening import Detection, SeriesJob, detection_warnings, screen_jobs

    saliency_root = store_saliency_root(store.path, create=not args.no_saliency)  # the store's own maps
    node = socket.gethostname()
    with InferenceClient(model=args.model, device=args.device, torch_threads=args.threads) as client:
        def detect(job: SeriesJob, sub: Any) -> Detection:
            reply = client.detect(job.folder, series_uid=job.series_uid, analyze=True,
                                  saliency=not args.no_saliency,
                                  saliency_dir=None if args.no_saliency else saliency_root / job.series_uid,
                                  progress=sub)
            return Detection(reply.findings, reply.model, reply.threshold, reply.saliency,
                             reply.info.study_instance_uid, ScanPlacement(reply.device, node),
                             detection_warnings(reply))

        return screen_jobs(todo, store, detect, progress=bar.scan_progress, log=bar.write,
                           on_result=bar.result, lease_s=_lease_s(args))


def _on_ray(args: argparse.Namespace, todo: Any, store: Any, bar: Any) -> Any:
    from viewer.scale.cluster import RayOptions
    from viewer.scale.driver import screen_on_ray

    opts = RayOptions(address=args.ray, workers=args.workers, gpus_per_scan=args.gpus_per_scan,
                      max_retries=args.max_retries, scan_timeout_s=args.scan_timeout, model=args.model,
                      device=args.device, torch_threads=args.threads, saliency=not args.no_saliency)
    return screen_on_ray(todo, store, opts, log=bar.write, on_result=bar.result, lease_s=_lease_s(args))
