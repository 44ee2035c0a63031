"""``nodulelens listen``: the DICOM listener (C-STORE SCP) that receives exams into the archive,
screens each complete CT series onto the worklist, and retries the queued sends.

Binds to 127.0.0.1 unless ``--bind`` says otherwise; accepts only the calling AE titles of the
configured nodes (or ``pacs local --allow``). Runs until Ctrl+C (or SIGTERM) or ``--for`` seconds.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time

from viewer.cli.saliency_help import NO_SALIENCY_HELP

HELP = "receive exams from a PACS or scanner (C-STORE SCP), screen them onto the worklist"
RETRY_EVERY_S = 30.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=None, help="TCP port (default: settings, 11112)")
    parser.add_argument("--bind", default=None, help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--settings", default=None, metavar="FILE", help="settings file (default: the user's)")
    parser.add_argument("--db", default=None, metavar="PATH", help="review store")
    parser.add_argument("--model", default=None, help="screening model id (default: the default model)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    parser.add_argument("--no-screen", action="store_true", help="only archive and register, do not screen")
    parser.add_argument("--no-saliency", action="store_true", help=NO_SALIENCY_HELP)
    parser.add_argument("--for", dest="duration", type=float, default=0.0, metavar="SECONDS",
                        help="stop after this many seconds (default: run until interrupted)")


def run(args: argparse.Namespace) -> int:
    from contextlib import ExitStack

    from viewer.pacs.config import PacsSettings
    from viewer.pacs.intake import Intake, client_detect
    from viewer.pacs.listener import Listener
    from viewer.review.saliency_dir import saliency_root
    from viewer.pacs.send import Sender
    from viewer.review.settings import JsonBackend, ReviewSettings, default_store_path
    from viewer.cli.open_store import open_store

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config = PacsSettings(JsonBackend(args.settings) if args.settings else None).load()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_a: stop.set())
    with ExitStack() as stack:
        store = stack.enter_context(open_store(default_store_path(args.db, ReviewSettings())))
        detect = None
        if not args.no_screen:
            from inference.service.client import InferenceClient
            client = stack.enter_context(InferenceClient(model=args.model, device=args.device))
            detect = client_detect(client, None if args.no_saliency else saliency_root(store.path), print)
        listener = Listener(config, Intake(store, detect, lambda m: print(m, flush=True)),
                            port=args.port, bind=args.bind)
        listener.start()
        stack.callback(listener.stop)
        print(listener.status_line(), flush=True)
        sender = Sender(config, store, actor="listener")
        t_end = time.monotonic() + args.duration if args.duration > 0 else float("inf")
        try:
            while not stop.is_set() and time.monotonic() < t_end:
                for o in sender.retry_due():
                    print(o.line(), flush=True)
                stop.wait(min(RETRY_EVERY_S, max(0.1, t_end - time.monotonic())))
        except KeyboardInterrupt:
            pass
        print("stopping: finishing the series still open", flush=True)
    return 0
