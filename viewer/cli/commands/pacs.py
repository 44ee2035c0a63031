"""``nodulelens pacs``: PACS nodes, echo, find, pull (with priors), push of results, the send queue.

    nodulelens pacs nodes [list]                     the configured nodes and our own AE
    nodulelens pacs nodes add NAME --ae AE --host H --port P [--tls-cert C --tls-key K]
                              [--web-url URL --auth none|basic|bearer --user U --password X|--token T]
    nodulelens pacs nodes remove NAME | test NAME
    nodulelens pacs local [--ae AE] [--port N] [--archive DIR] [--allow AE ...] [--quiet S] [--priors-years N]
    nodulelens pacs echo NODE                        C-ECHO (and a QIDO-RS ping when it has a URL)
    nodulelens pacs find NODE [--patient ID] [--name "DOE^*"] [--date 20240101-] [--modality CT]
    nodulelens pacs pull NODE STUDY_UID [--priors-years N] [--web | --move]
    nodulelens pacs push NODE STUDY [--format sr,seg,pdf] [--web]
    nodulelens pacs queue [--retry]                  objects waiting to be sent; retry them now
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

HELP = "PACS: configure nodes, echo, find, pull studies with priors, push results, the send queue"


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--settings", default=None, metavar="FILE", help="settings file (default: the user's)")
    p.add_argument("--db", default=None, metavar="PATH", help="review store (default as for `screen`)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="pacs_command", metavar="ACTION", required=True)
    nodes = sub.add_parser("nodes", help="list, add, remove or test remote nodes")
    nodes.add_argument("action", nargs="?", default="list", choices=("list", "add", "remove", "test"))
    nodes.add_argument("name", nargs="?", default="")
    nodes.add_argument("--ae", default="", help="the node's AE title")
    nodes.add_argument("--host", default="127.0.0.1")
    nodes.add_argument("--port", type=int, default=0, help="the node's DICOM port (0: DICOMweb only)")
    nodes.add_argument("--tls-cert", default="")
    nodes.add_argument("--tls-key", default="")
    nodes.add_argument("--tls-ca", default="", help="CA bundle that signs the node's certificate")
    nodes.add_argument("--web-url", default="", help="DICOMweb base URL, e.g. http://pacs:8042/dicom-web")
    nodes.add_argument("--auth", default="none", choices=("none", "basic", "bearer"))
    nodes.add_argument("--user", default="")
    nodes.add_argument("--password", default="")
    nodes.add_argument("--token", default="")
    nodes.add_argument("--replace", action="store_true", help="replace a node of the same name")
    _common(nodes)
    local = sub.add_parser("local", help="show or set our own AE title, port, archive and listener rules")
    local.add_argument("--ae", default=None)
    local.add_argument("--port", type=int, default=None)
    local.add_argument("--bind", default=None, help="listener address (default 127.0.0.1)")
    local.add_argument("--archive", default=None)
    local.add_argument("--allow", nargs="*", default=None, metavar="AE", help="calling AE titles accepted")
    local.add_argument("--quiet", type=float, default=None, help="seconds without a new instance: series complete")
    local.add_argument("--priors-years", type=int, default=None)
    local.add_argument("--auto-send", default=None, metavar="NODE", help="node to send results to after sign-off")
    _common(local)
    echo = sub.add_parser("echo", help="C-ECHO a node (QIDO-RS ping for DICOMweb)")
    echo.add_argument("node")
    _common(echo)
    find = sub.add_parser("find", help="search a node's studies (C-FIND study root, or QIDO-RS)")
    find.add_argument("node")
    add_query_arguments(find, limit=200)
    _common(find)
    pull = sub.add_parser("pull", help="retrieve a study and its priors into the archive and the store")
    pull.add_argument("node")
    pull.add_argument("study_uid")
    pull.add_argument("--priors-years", type=int, default=None, help="0: no priors (default: settings, 5)")
    pull.add_argument("--web", action="store_true", help="WADO-RS instead of C-GET")
    pull.add_argument("--move", action="store_true",
                      help="C-MOVE to our own AE title instead of C-GET (the node must know our host and port)")
    _common(pull)
    push = sub.add_parser("push", help="send a reviewed study's SR/SEG/saliency maps/PDF to a node")
    push.add_argument("node")
    push.add_argument("study", help="series or study UID, or scan folder, of a study in the store")
    push.add_argument("--format", default="sr,seg", help="comma-separated: sr, seg, pmap, pdf (default sr,seg)")
    push.add_argument("--web", action="store_true", help="STOW-RS instead of C-STORE")
    push.add_argument("--actor", default="", help="who sends (audit trail; default: the reviewer)")
    _common(push)
    queue = sub.add_parser("queue", help="objects waiting to be sent; --retry sends them now")
    queue.add_argument("--retry", action="store_true")
    _common(queue)


def add_query_arguments(p: argparse.ArgumentParser | Any, limit: int) -> None:
    """The study search options (`pacs find`, `screen --from-pacs`); :func:`study_query` reads them."""
    p.add_argument("--patient", default="", help="Patient ID")
    p.add_argument("--name", default="", help='Patient name, wildcards allowed: "DOE^*"')
    p.add_argument("--date", default="", help="study date or range: 20240101, 20240101-, 20200101-20231231")
    p.add_argument("--modality", default="")
    p.add_argument("--limit", type=int, default=limit, help=f"studies at most (default {limit})")
    p.add_argument("--web", action="store_true", help="use DICOMweb even when the node has a DICOM port")


def study_query(args: argparse.Namespace) -> Any:
    """The :class:`viewer.pacs.query.StudyQuery` of the options of :func:`add_query_arguments`."""
    from viewer.pacs.query import StudyQuery
    return StudyQuery(patient_id=args.patient, patient_name=args.name, study_date=args.date,
                      modality=args.modality, limit=args.limit)


def pacs_config(args: argparse.Namespace) -> Any:
    """The PACS configuration of ``--settings`` (default: the user's settings file)."""
    return _settings(args).load()


def _settings(args: argparse.Namespace) -> Any:
    from viewer.pacs.config import PacsSettings
    from viewer.review.settings import JsonBackend
    return PacsSettings(JsonBackend(args.settings) if args.settings else None)


def _store(args: argparse.Namespace) -> Any:
    from viewer.review.settings import ReviewSettings, default_store_path
    from viewer.cli.open_store import open_store
    return open_store(default_store_path(args.db, ReviewSettings()))


def run(args: argparse.Namespace) -> int:
    handler = {"nodes": _nodes, "local": _local, "echo": _echo, "find": _find, "pull": _pull,
               "push": _push, "queue": _queue}[args.pacs_command]
    return handler(args)


def _nodes(args: argparse.Namespace) -> int:
    from viewer.pacs.nodes import Auth, Node

    settings = _settings(args)
    if args.action == "list":
        cfg = settings.load()
        loc = cfg.local
        print(f"local: {loc.ae_title} listening on {loc.bind}:{loc.port}, archive {loc.archive}, "
              f"accepts {', '.join(cfg.callers()) or 'nobody (add a node)'}")
        for n in cfg.nodes:
            print("  " + n.describe())
        return 0
    if not args.name:
        raise SystemExit("nodulelens pacs nodes: give the node name")
    if args.action == "remove":
        settings.remove_node(args.name)
        print(f"removed {args.name}")
        return 0
    if args.action == "test":
        args.node = args.name
        return _echo(args)
    secret = args.token if args.auth == "bearer" else args.password
    node = Node(args.name, args.ae, args.host, args.port, args.tls_cert, args.tls_key, args.tls_ca,
                args.web_url, Auth(args.auth), args.user, secret)
    settings.add_node(node, replace_existing=args.replace)
    print(f"added {node.describe()}")
    return 0


def _local(args: argparse.Namespace) -> int:
    from dataclasses import replace

    settings = _settings(args)
    loc = settings.load().local
    changes = {k: v for k, v in (("ae_title", args.ae), ("port", args.port), ("bind", args.bind),
                                 ("archive", args.archive), ("quiet_seconds", args.quiet),
                                 ("priors_years", args.priors_years), ("auto_send_node", args.auto_send))
               if v is not None}
    if args.allow is not None:
        changes["allowed_callers"] = tuple(args.allow)
    if changes:
        loc = replace(loc, **changes)
        settings.save_local(loc)
    for k, v in loc.to_json().items():
        print(f"{k}: {v}")
    return 0


def _echo(args: argparse.Namespace) -> int:
    from viewer.pacs import dimse, web

    cfg = _settings(args).load()
    node = cfg.node(args.node)
    if node.port:
        print(f"C-ECHO {node.ae_title}@{node.host}:{node.port}: ok in {dimse.echo(node, cfg.local) * 1000:.0f} ms")
    if node.web_url:
        print(f"QIDO-RS {node.web_url}: ok in {web.ping(node, cfg.local) * 1000:.0f} ms")
    return 0


def _find(args: argparse.Namespace) -> int:
    from viewer.pacs.retrieve import search

    cfg = _settings(args).load()
    hits = search(cfg, cfg.node(args.node), study_query(args), prefer_web=args.web)
    for h in hits:
        print(h.line())
        for s in h.series:
            print(f"    {s.modality:<4} #{s.number:<4} {s.n_instances:>5} inst  {s.series_uid}  {s.description}")
    print(f"{len(hits)} stud{'y' if len(hits) == 1 else 'ies'}")
    return 0


def _pull(args: argparse.Namespace) -> int:
    from viewer.cli.progress_bar import ProgressBar
    from viewer.pacs.retrieve import RetrieveMethod, pull

    cfg = _settings(args).load()
    bar = ProgressBar("pull")
    with _store(args) as store:
        try:
            result = pull(cfg, cfg.node(args.node), args.study_uid, store, priors_years=args.priors_years,
                          prefer_web=args.web, progress=bar,
                          method=RetrieveMethod.C_MOVE if args.move else RetrieveMethod.C_GET)
        finally:
            bar.done()
    for s in result.studies:
        kind = "prior" if s.is_prior else "study"
        print(f"{kind} {s.study.study_date} {s.study.study_uid}: {s.n_instances} instance(s), "
              f"{len(s.registered)} CT series in the store")
        for f in s.series_folders:
            print(f"    {f}")
    return 0


def _push(args: argparse.Namespace) -> int:
    from viewer.pacs.push import push_study

    cfg = _settings(args).load()
    formats = [f.strip().lower() for f in args.format.split(",") if f.strip()]
    with _store(args) as store:
        outcomes, notes = push_study(cfg, store, args.node, args.study, formats, args.actor, args.web)
    for n in notes:
        print(f"note: {n}")
    for o in outcomes:
        print(o.line())
    failed = sum(not o.ok for o in outcomes)
    if failed:
        print(f"{failed} object(s) not sent: queued, retried by `nodulelens listen` or `pacs queue --retry`",
              file=sys.stderr)
    return 1 if failed else 0


def _queue(args: argparse.Namespace) -> int:
    from viewer.pacs.send import Sender
    from viewer.review.pacs_queue import MAX_ATTEMPTS, OutboxState, items

    cfg = _settings(args).load()
    with _store(args) as store:
        if args.retry:
            for o in Sender(cfg, store).retry_due(all_pending=True):
                print(o.line())
        pending = items(store, OutboxState.PENDING)
        abandoned = items(store, OutboxState.ABANDONED)
        for i in pending + abandoned:
            print(f"#{i.seq} {i.state.value:<9} {i.kind:<5} {i.sop_uid} -> {i.node}: {i.attempts} attempt(s), "
                  f"{i.last_error}")
        print(f"{len(pending)} object(s) waiting, {len(abandoned)} abandoned after {MAX_ATTEMPTS} attempts "
              "(send them again with `pacs push`)")
    return 1 if pending else 0
