"""One reviewer reviewing one study: decisions, undo/redo, navigation, sign-off. Qt-free.

Every action is written to the store (committed) before the method returns, and the session's
state is re-derived from the store afterwards, so what the GUI shows is what is on disk. When a
write fails (read-only or full disk, store busy) the action is kept in :attr:`pending` with the time
the reviewer made it, the typed error is raised for the GUI to show, and the pending actions are
written first on the next action or on :meth:`retry_pending`. Undo and redo append decisions
(a RESET naming the undone decision; a fresh copy on redo); nothing is ever deleted.

The session announces every change on :attr:`ReviewSession.events` (see
:mod:`viewer.review.events`): ``StudyChanged`` when the state on disk differs from what was
shown, ``FindingDecided`` / ``FindingAdded`` per committed action, ``SelectionChanged``,
``StudySignedOff`` / ``StudyReopened``, ``PendingWriteFailed`` / ``PendingSaved``.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from inference.domain.finding import Box3D, Finding, FindingSource, Point
from viewer.review import derive
from viewer.review.errors import (
    JournalWriteError, NoDetection, ReasonRequired, SignOffBlocked, StoreWriteError, UnknownFinding,
)
from viewer.review.events import (
    Events, FindingAdded, FindingDecided, PendingSaved, PendingWriteFailed, SelectionChanged, StudyChanged,
    StudyReopened, StudySignedOff,
)
from viewer.review.journal import Journal, PendingAction, to_line
from viewer.review.measuring import Measure, Measured, add_box, default_measure
from viewer.review.model import (
    Decision, DecisionRecord, DetectionState, FindingState, FindingStatus, ReadMode, RejectReason, ReviewedStudy,
    StudyStatus,
)
from viewer.review.sign_off import SIGN_OFF, clean_reason, detection_problem, detection_state, sign_off_detail
from viewer.review.settings import validate_reviewer
from viewer.review.store import Store, utcnow


class ReviewSession:
    """``current_model``: the model id a sign-off with AI needs a detection of (None: the one the
    viewer detects with, :func:`inference.detection.registry.default_model_id`). ``journal``: where
    pending actions are kept when the store cannot take them (default ``<store>.journal``)."""

    def __init__(self, store: Store, uid_or_path: str, reviewer: str, *, volume: Any = None,
                 measure: Measure | None = None, current_model: str | None = None,
                 journal: Journal | None = None) -> None:
        self.store = store
        self.reviewer = validate_reviewer(reviewer)
        self.series_uid: str = store.series_row(uid_or_path)["series_uid"]
        self.volume = volume
        self._measure = measure
        self._pending: list[PendingAction] = []
        self._undo: list[DecisionRecord] = []
        self._redo: list[DecisionRecord] = []
        self.events = Events()
        self._write_failed = False
        self._current_model = current_model
        self.journal = journal if journal is not None else Journal.beside(store.path)
        self._journaled: set[str] = set()
        self.selected: str | None = None
        self.study: ReviewedStudy = store.reviewed_study(self.series_uid)

    # -- state ---------------------------------------------------------------------------------
    @property
    def findings(self) -> tuple[FindingState, ...]:
        return self.study.findings

    @property
    def status(self) -> StudyStatus:
        return self.study.status

    @property
    def pending(self) -> tuple[PendingAction, ...]:
        return tuple(self._pending)

    @property
    def unjournaled(self) -> int:
        """Pending actions held only in memory (neither in the store nor in the journal)."""
        return sum(a.id not in self._journaled for a in self._pending)

    def state(self, finding_id: str) -> FindingState:
        for fs in self.study.findings:
            if fs.finding.finding_id == finding_id:
                return fs
        raise UnknownFinding(finding_id, f"is not a finding of study {self.study.study_instance_uid}",
                             "Pick a finding from the table")

    def refresh(self) -> None:
        """Re-read the study from the store; announce it when it changed, and move the selection
        off a finding that no longer exists (an undone add)."""
        before, selected = self.study, self.selected
        self.study = self.store.reviewed_study(self.series_uid)
        if self.selected is not None and self._state_or_none(self.selected) is None:
            self.selected = self.next_undecided(None)
        if self.study != before:
            self.events.emit(StudyChanged(self.series_uid, self.study))
        if self.selected != selected:
            self.events.emit(SelectionChanged(self.series_uid, self.selected))

    @property
    def can_undo(self) -> bool:
        return bool(self._pending or self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo) and not self._pending

    # -- study life cycle ------------------------------------------------------------------------
    def open(self) -> None:
        """Record that the reviewer opened the study (audit: open)."""
        self.store.log("open", self.reviewer, self.series_uid)
        self.refresh()

    def show(self, finding_id: str) -> None:
        """Record the first time a finding is shown to the reviewer (reader-study log)."""
        if self.state(finding_id).first_shown_at is None:
            self.store.log("shown", self.reviewer, self.series_uid, finding_id)
            self.refresh()

    def select(self, finding_id: str | None) -> None:
        """The finding the reviewer looks at (announced), logged as shown the first time."""
        if finding_id is not None:
            self.state(finding_id)
        if finding_id != self.selected:
            self.selected = finding_id
            self.events.emit(SelectionChanged(self.series_uid, finding_id))
        if finding_id is not None:
            self.show(finding_id)

    def undecided_ai(self) -> list[str]:
        """Pending AI findings at or above the study's operating point (those below it were kept
        only so the reader can lower the point; they need a decision once the point presents them)."""
        from viewer.review.operating_point import operating_point

        point = operating_point(self.store, self.series_uid)
        return [fs.finding.finding_id for fs in self.findings
                if fs.finding.source is FindingSource.AI and fs.status is FindingStatus.PENDING
                and (point is None or fs.finding.score >= point)]

    @property
    def current_model(self) -> str:
        if self._current_model is None:
            from inference.detection.registry import default_model_id
            self._current_model = default_model_id()
        return self._current_model

    def detection(self) -> DetectionState:
        """Whether the store holds a detection of this series by the current model."""
        return detection_state(self.store.series_row(self.series_uid), self.current_model)

    def sign_off(self) -> None:
        """Sign off a study the current model has screened, every reported AI finding decided."""
        self._sign_off(ReadMode.WITH_AI, "")

    def sign_off_without_ai(self, reason: str) -> None:
        """Sign off explicitly without (current) AI detection; ``reason`` is required and audited."""
        why = clean_reason(reason)
        if not why:
            raise ReasonRequired(self.study.study_instance_uid, "cannot be signed off without AI without a reason",
                                 "Type why the study is read without AI (for example: AI unavailable, urgent)")
        self._sign_off(ReadMode.WITHOUT_AI, why)

    def _sign_off(self, mode: ReadMode, reason: str) -> None:
        self.retry_pending()
        if self.status is StudyStatus.SIGNED_OFF:
            raise SignOffBlocked(self.study.study_instance_uid, "is already signed off",
                                 "Reopen it to change anything")
        row = self.store.series_row(self.series_uid)
        state = detection_state(row, self.current_model)
        if mode is ReadMode.WITH_AI and state is not DetectionState.CURRENT:
            raise NoDetection(self.study.study_instance_uid, detection_problem(state, row, self.current_model),
                              "Run Analysis > Detect nodules (Ctrl+D) or 'nodulelens screen' first, or choose "
                              "Review > Sign off without AI and give the reason")
        left = self.undecided_ai()
        if left:
            raise SignOffBlocked(self.study.study_instance_uid,
                                 f"{len(left)} AI finding(s) are undecided ({', '.join(left)})",
                                 "Accept or reject every AI finding, then sign off")
        counts = {s.value: sum(fs.status is s for fs in self.findings) for s in FindingStatus}
        self.store.log(SIGN_OFF, self.reviewer, self.series_uid,
                       detail=sign_off_detail(counts, mode, state, row["model_id"], reason))
        self._undo.clear()
        self._redo.clear()
        self.refresh()
        self.events.emit(StudySignedOff(self.series_uid, self.reviewer))

    def reopen(self, reason: str = "") -> None:
        if self.status is not StudyStatus.SIGNED_OFF:
            raise SignOffBlocked(self.study.study_instance_uid, "is not signed off",
                                 "Only a signed-off study can be reopened")
        self.store.log("reopen", self.reviewer, self.series_uid, detail={"reason": reason})
        self.refresh()
        self.events.emit(StudyReopened(self.series_uid, self.reviewer))

    # -- decisions -------------------------------------------------------------------------------
    def accept(self, finding_id: str) -> None:
        self.state(finding_id)
        self._do(PendingAction(finding_id, Decision.ACCEPTED, utcnow()))

    def reject(self, finding_id: str, reason: RejectReason, text: str = "") -> None:
        self.state(finding_id)
        self._do(PendingAction(finding_id, Decision.REJECTED, utcnow(), reason=RejectReason(reason),
                               comment=text.strip()))

    def comment(self, finding_id: str, text: str) -> None:
        self.state(finding_id)
        self._do(PendingAction(finding_id, Decision.COMMENTED, utcnow(), comment=text.strip()))

    def measure(self, center: Point, box: Box3D | None) -> Measured:
        """Measure the nodule at ``center`` in ``box`` (slow: seconds on a full scan). Safe to call
        from a worker thread; pass the result to :meth:`edit` / :meth:`add` on the GUI thread."""
        measure = self._measure or default_measure(self.volume)
        self._measure = measure
        return (None, None) if measure is None else measure(center, box)

    def edit(self, finding_id: str, box: Box3D, measured: Measured | None = None) -> None:
        """Move/resize a finding's box; the nodule is re-measured inside it (or ``measured``
        is the :meth:`measure` result computed beforehand)."""
        old = self.state(finding_id).finding
        moved = self._measured(old.evolve(center=box.center, box=box), box, measured)
        self._do(PendingAction(finding_id, Decision.EDITED, utcnow(), new=derive.geometry_value(moved)))

    def add(self, *, box: Box3D | None = None, center: Point | None = None,
            measured: Measured | None = None) -> str:
        """Add a nodule the AI missed (a drawn box or a clicked centre); returns its id."""
        box = add_box(box, center)
        fid = self._new_id()
        f = self._measured(Finding(fid, box.center, box, 1.0, FindingSource.REVIEWER), box, measured)
        self._do(PendingAction(fid, Decision.ADDED, utcnow(), new=derive.geometry_value(f), added=f))
        return fid

    def undo(self) -> None:
        """Take back the last action: a pending one is dropped, a stored one gets a RESET."""
        if self._pending:
            dropped = self._pending.pop()
            if dropped.id in self._journaled:
                try:
                    self.journal.append({"v": 1, "op": "drop", "id": dropped.id})
                except JournalWriteError:
                    self._pending.append(dropped)  # not undone: the journal would replay it
                    raise
                self._journaled.discard(dropped.id)
            if dropped.decision is Decision.RESET and self._redo:
                self._undo.append(self._redo.pop())  # the undo itself was never saved
            return
        if not self._undo:
            return
        target = self._undo.pop()
        self._redo.append(target)
        self._do(PendingAction(target.finding_id, Decision.RESET, utcnow(), undoes=target.seq))

    def redo(self) -> None:
        if not self._redo or self._pending:
            return
        d = self._redo[-1]
        self._do(PendingAction(d.finding_id, d.decision, utcnow(), reason=d.reason, comment=d.comment,
                               new=json.loads(d.new_value) if d.new_value else {}), keep_redo=True)
        self._redo.pop()

    def retry_pending(self) -> None:
        """Write the pending actions in order; raises the store's error if it still fails (the
        actions are then in the journal, or :class:`JournalWriteError` says they are not)."""
        committed: list[PendingAction] = []
        error: StoreWriteError | None = None
        try:
            while self._pending:
                a = self._pending[0]
                rec = self._stored_copy(a) or self._commit(a)
                committed.append(self._pending.pop(0))
                if rec.decision is not Decision.RESET:
                    self._undo.append(rec)
                if self._pending:  # the next action's "previous value" is the state after this one
                    self.study = self.store.reviewed_study(self.series_uid)
        except StoreWriteError as exc:
            error = self._keep_in_journal(exc)
            if error is exc:
                raise
            raise error from exc
        finally:
            self.refresh()  # show exactly what is on disk, also when a later write failed
            self._announce(committed, error)
        if self._journaled:
            self._settle_journal()

    def restore(self, actions: list[PendingAction]) -> None:
        """Take up actions from the journal (a crashed session's) and write them."""
        self._pending.extend(actions)
        self._journaled.update(a.id for a in actions)
        self.retry_pending()

    def _stored_copy(self, a: PendingAction) -> DecisionRecord | None:
        """The decision of a journaled action that is already in the store (replayed elsewhere)."""
        if a.id not in self._journaled:
            return None
        key = (a.finding_id, a.decision, self.reviewer, a.at)
        return next((d for d in self.store.decisions(self.series_uid)
                     if (d.finding_id, d.decision, d.reviewer, d.at) == key), None)

    def _keep_in_journal(self, exc: StoreWriteError) -> StoreWriteError:
        """Append the pending actions not yet journaled; the store's error, or the journal's."""
        todo = [a for a in self._pending if a.id not in self._journaled]
        if not todo:
            return exc
        try:
            self.journal.append(*(to_line(a, self.series_uid, self.reviewer) for a in todo))
        except JournalWriteError as jexc:
            return JournalWriteError(jexc.subject, f"{jexc.problem}, and the store {exc.subject} failed too "
                                     f"({exc.problem}): {len(self._pending)} action(s) are pending only in this "
                                     "window", f"{exc.fix}; do not quit: the actions are retried")
        self._journaled.update(a.id for a in todo)
        return exc

    def _settle_journal(self) -> None:
        if self._pending:
            return
        try:
            self.journal.settle(self.store)
            self._journaled.clear()
        except OSError:
            pass  # replay skips what is in the store: a journal left behind applies nothing twice

    def _announce(self, committed: list[PendingAction], error: StoreWriteError | None) -> None:
        for a in committed:
            if a.decision is Decision.ADDED:
                self.events.emit(FindingAdded(self.series_uid, a.finding_id))
            else:
                self.events.emit(FindingDecided(self.series_uid, a.finding_id, a.decision))
        if error is not None:
            self._write_failed = True
            self.events.emit(PendingWriteFailed(self.series_uid, len(self._pending), error))
        elif self._write_failed and not self._pending:
            self._write_failed = False
            self.events.emit(PendingSaved(self.series_uid))

    # -- navigation -----------------------------------------------------------------------------
    def next_undecided(self, current: str | None = None, step: int = 1) -> str | None:
        """The next (``step`` 1) or previous (-1) undecided finding after ``current``, wrapping."""
        ids = [fs.finding.finding_id for fs in self.findings]
        undecided = {fs.finding.finding_id for fs in self.findings if fs.status is FindingStatus.PENDING}
        if not undecided:
            return None
        start = ids.index(current) if current in ids else (-1 if step > 0 else 0)
        for k in itertools.islice(itertools.count(1), len(ids)):
            fid = ids[(start + step * k) % len(ids)]
            if fid in undecided:
                return fid
        return None

    def previous_undecided(self, current: str | None = None) -> str | None:
        return self.next_undecided(current, step=-1)

    # -- internals ------------------------------------------------------------------------------
    def _do(self, action: PendingAction, keep_redo: bool = False) -> None:
        if self.status is StudyStatus.SIGNED_OFF:
            raise SignOffBlocked(self.study.study_instance_uid, "is signed off",
                                 "Reopen the study to change its findings")
        self._pending.append(action)
        if not keep_redo and action.decision is not Decision.RESET:
            self._redo.clear()
        self.retry_pending()  # on StoreWriteError the action stays pending; the GUI says unsaved

    def _commit(self, a: PendingAction) -> DecisionRecord:
        prev_state = self._state_or_none(a.finding_id)
        previous = derive.state_value(prev_state)
        if a.decision is Decision.RESET:
            new: dict = {"undoes": a.undoes}
        elif a.decision in (Decision.EDITED, Decision.ADDED):
            new = {**previous, **a.new, "status": FindingStatus.ACCEPTED.value, "exists": True}
        elif a.decision is Decision.ACCEPTED:
            new = {**previous, "status": "accepted", "reason": None}
        elif a.decision is Decision.REJECTED:
            new = {**previous, "status": "rejected", "reason": a.reason.value if a.reason else None}
        else:
            new = {**previous, "comment": a.comment}
        already_added = a.decision is Decision.ADDED and a.finding_id in {
            s.finding.finding_id for s in self.store.stored_findings(self.series_uid)}
        rec = self.store.append_decision(
            self.series_uid, a.finding_id, a.decision, self.reviewer, previous=previous, new=new,
            reason=a.reason.value if a.reason else None, comment=a.comment, undoes=a.undoes,
            added=None if already_added else a.added, at=a.at)
        return rec

    def _state_or_none(self, finding_id: str) -> FindingState | None:
        return next((fs for fs in self.findings if fs.finding.finding_id == finding_id), None)

    def _new_id(self) -> str:
        taken = {s.finding.finding_id for s in self.store.stored_findings(self.series_uid)}
        taken |= {p.finding_id for p in self._pending}
        n = 1
        while f"reviewer-{n}" in taken:
            n += 1
        return f"reviewer-{n}"

    def _measured(self, finding: Finding, box: Box3D, measured: Measured | None) -> Finding:
        analysis, diameter = measured if measured is not None else self.measure(finding.center, box)
        return finding.evolve(analysis=analysis, diameter_mm=diameter)
