"""Render requests are coalesced: one Render() per window per turn of the event loop."""

from __future__ import annotations

from viewer.scene.scheduler import RenderScheduler


class Window:
    def __init__(self) -> None:
        self.renders = 0

    def Render(self) -> None:
        self.renders += 1


def test_many_requests_one_render_each(qtbot):
    sched = RenderScheduler()
    a, b = Window(), Window()
    for _ in range(10):
        sched.request_render(a)
        sched.request_render(b)
    assert (a.renders, b.renders) == (0, 0)
    qtbot.waitUntil(lambda: sched.pending == 0)
    assert (a.renders, b.renders) == (1, 1)


def test_lazy_requests_wait_and_an_urgent_one_wins(qtbot):
    sched = RenderScheduler(lazy_ms=200)
    a, b = Window(), Window()
    sched.request_render(a, lazy=True)
    sched.request_render(b, lazy=True)
    sched.request_render(b)  # urgent: rendered at the next turn, not again later
    qtbot.waitUntil(lambda: b.renders == 1)
    assert a.renders == 0
    qtbot.waitUntil(lambda: a.renders == 1, timeout=2000)
    assert sched.idle  # nothing left that could render either window again
    assert (a.renders, b.renders) == (1, 1)


def test_stopped_scheduler_renders_nothing(qtbot):
    sched = RenderScheduler()
    a = Window()
    sched.request_render(a)
    sched.stop()
    sched.request_render(a)
    assert sched.idle and a.renders == 0  # nothing pending, no timer: it can never render
