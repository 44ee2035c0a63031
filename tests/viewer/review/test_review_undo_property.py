"""Undo/redo against a model: any action sequence, undone, gives back the earlier state exactly."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from review_fixtures import SERIES, add_screened_series

from inference.domain.finding import Box3D
from viewer.review.model import Decision, RejectReason
from viewer.review.session import ReviewSession
from viewer.review.store import Store

ACTIONS = st.lists(st.one_of(
    st.tuples(st.just("accept"), st.sampled_from(["f1", "f2", "f3"])),
    st.tuples(st.just("reject"), st.sampled_from(["f1", "f2", "f3"]), st.sampled_from(list(RejectReason))),
    st.tuples(st.just("comment"), st.sampled_from(["f1", "f2"]), st.text(max_size=5)),
    st.tuples(st.just("edit"), st.sampled_from(["f1", "f3"]), st.floats(2.0, 20.0)),
    st.tuples(st.just("add"), st.floats(-50.0, 50.0)),
    st.tuples(st.just("undo")),
    st.tuples(st.just("redo")),
), max_size=12)


def _snapshot(s: ReviewSession) -> tuple:
    return tuple((fs.finding.finding_id, fs.status, fs.reason, fs.comment, fs.finding.box)
                 for fs in s.findings)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ACTIONS)
def test_undo_redo_follow_a_stack_of_states(actions) -> None:
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "s.db") as store:
        add_screened_series(store)
        s = ReviewSession(store, SERIES, "Dr Prop", measure=lambda c, b: (None, max(b.size)))
        done, undone = [_snapshot(s)], []
        for a in actions:
            if a[0] == "undo":
                s.undo()
                if len(done) > 1:
                    undone.append(done.pop())
            elif a[0] == "redo":
                s.redo()
                if undone:
                    done.append(undone.pop())
            else:
                if a[0] == "accept":
                    s.accept(a[1])
                elif a[0] == "reject":
                    s.reject(a[1], a[2])
                elif a[0] == "comment":
                    s.comment(a[1], a[2])
                elif a[0] == "edit":
                    s.edit(a[1], Box3D.around((0.0, 0.0, 0.0), a[2]))
                else:
                    s.add(center=(a[1], 0.0, 0.0))
                done.append(_snapshot(s))
                undone.clear()
            assert _snapshot(s) == done[-1]
            assert _snapshot(ReviewSession(store, SERIES, "Dr Other")) == done[-1]  # from disk
        by_seq = {d.seq: d for d in store.decisions(SERIES)}
        for d in by_seq.values():  # every undo names an earlier decision on the same finding
            if d.decision is Decision.RESET:
                target = by_seq[d.undoes]
                assert target.seq < d.seq and target.finding_id == d.finding_id
                assert target.decision is not Decision.RESET
