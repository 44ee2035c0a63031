"""Screening straight from a PACS node: find the studies, pull each with its priors, plan the run. Qt-free.

:func:`plan_from_pacs` searches the node (C-FIND or QIDO-RS, at most ``query.limit`` studies),
skips the studies whose series are all screened in the store already (so a re-run resumes
without pulling them again), pulls the others with their priors (``priors_years``; the priors are
screened too, so the follow-up comparison has their findings) into the archive, registered in the
store, and returns the :class:`~viewer.review.screening.Plan` of the pulled CT series. The plan is
screened the same way as a folder: :func:`viewer.review.screening.screen_jobs` in one process, or
:func:`viewer.scale.driver.screen_on_ray`.

A node that is not configured raises :class:`~viewer.pacs.errors.UnknownNode`; one that does not
answer the search raises :class:`~viewer.pacs.errors.NodeUnreachable` (both name the node and the
fix). A study whose pull fails is noted and the run goes on with the others; when the node stops
answering in the middle, the studies pulled so far are screened and the rest are left for a re-run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from viewer.pacs.errors import NodeUnreachable, PacsError
from viewer.pacs.nodes import PacsConfig
from viewer.pacs.query import StudyHit, StudyQuery
from viewer.pacs.retrieve import Progress, PulledStudy, pull, search

if TYPE_CHECKING:
    from viewer.review.screening import Outcome, Plan, SeriesJob
    from viewer.review.store import Store

Log = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class PacsPlan:
    """The screening plan of the pulled series, and what happened to each study found."""

    plan: "Plan"
    found: tuple[StudyHit, ...]
    pulled: tuple[PulledStudy, ...]
    already_screened: tuple[str, ...]  # study UIDs skipped without pulling
    failed: tuple[str, ...]  # one line per study that could not be pulled


def _quiet(_line: str) -> None:
    pass


def _is_ct(hit: StudyHit) -> bool:
    mods = {s.modality for s in hit.series} | set(hit.modalities.split("\\"))
    return "CT" in mods or not (mods - {""})  # a node that does not say what it holds: pull and look


def plan_from_pacs(config: PacsConfig, node_name: str, query: StudyQuery, store: "Store", *,
                   priors_years: int | None = None, prefer_web: bool = False, force: bool = False,
                   log: Log | None = None, progress: Progress | None = None,
                   actor: str = "screening") -> PacsPlan:
    """Search ``node_name`` with ``query``, pull what is not screened yet (with priors), plan the run."""
    say = log or _quiet
    node = config.node(node_name)
    hits = [h for h in search(config, node, query, prefer_web)[:query.limit] if h.study_uid]
    say(f"{node.name}: {len(hits)} stud{'y' if len(hits) == 1 else 'ies'} found")
    skipped: list[Outcome] = []
    pulled: list[PulledStudy] = []
    done: list[str] = []
    failed: list[str] = []
    for i, hit in enumerate(hits):
        if not _is_ct(hit):
            say(f"study {hit.study_uid} ({hit.modalities}): no CT series, not pulled")
            continue
        if not force and (outcomes := _already_screened(store, hit)):
            skipped.extend(outcomes)
            done.append(hit.study_uid)
            say(f"study {hit.study_uid}: already screened, not pulled again (use --force to screen again)")
            continue
        try:
            result = pull(config, node, hit.study_uid, store, priors_years=priors_years, prefer_web=prefer_web,
                          progress=progress)
        except NodeUnreachable as exc:
            if not pulled:
                raise
            failed.append(f"study {hit.study_uid}: {exc}")
            say(f"{node.name} stopped answering: the {len(hits) - i} stud(ies) left are for a re-run")
            break
        except PacsError as exc:  # one study the node cannot give: note it and go on with the others
            failed.append(f"study {hit.study_uid}: {exc}")
            say(f"study {hit.study_uid}: not pulled: {exc}")
            continue
        pulled.extend(result.studies)
        say(f"study {hit.study_uid}: pulled with {len(result.priors)} prior(s)")
    return PacsPlan(_plan_pulled(node.name, pulled, skipped, store, force, say, actor), tuple(hits),
                    tuple(pulled), tuple(done), tuple(failed))


def _already_screened(store: "Store", hit: StudyHit) -> list["Outcome"]:
    from viewer.review.screening import Outcome, ScreenState
    from viewer.review.study_screening import screened_series

    uids = screened_series(store, hit.study_uid)
    if uids is None:
        return []
    out = []
    for uid in uids:
        row = store.series_row(uid)
        out.append(Outcome(uid, row["scan_path"], ScreenState.SKIPPED, bool(row["flagged"]), row["n_findings"]))
    return out


def _plan_pulled(node_name: str, pulled: list[PulledStudy], skipped: list["Outcome"], store: "Store",
                 force: bool, say: Log, actor: str) -> "Plan":
    """One plan over every pulled series folder (current studies and priors), each series once."""
    from viewer.review.screening import Plan, plan

    jobs: dict[str, SeriesJob] = {}
    kept: dict[str, Outcome] = {o.series_uid: o for o in skipped}
    notes: list[str] = []
    folders = sorted({f for p in pulled for f in p.series_folders})
    for folder in folders:
        part = plan(folder, store, force=force, log=say, actor=actor)
        notes.extend(part.notes)
        for job in part.jobs:
            jobs.setdefault(job.series_uid, job)
        for o in part.skipped:
            kept.setdefault(o.series_uid, o)
    return Plan(f"pacs:{node_name}", tuple(jobs.values()), tuple(o for uid, o in kept.items() if uid not in jobs),
                tuple(notes))

