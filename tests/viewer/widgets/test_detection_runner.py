"""The GUI's detection runner: a real worker process, Qt signals in the GUI thread."""

from __future__ import annotations

import os
import signal
import threading

import numpy as np
import pytest

from inference.phantom import SMALL_SHAPE_ZYX, SMALL_SPACING_ZYX, NoduleSpec, make_phantom
from inference.service.client import InferenceClient
from viewer.controllers.detection_runner import DetectionRunner


@pytest.fixture(scope="module")
def phantom():
    return make_phantom(11, SMALL_SHAPE_ZYX, SMALL_SPACING_ZYX, nodules=[NoduleSpec(None, 16.0)])


@pytest.fixture(scope="module")
def client():
    c = InferenceClient(model="classical", device="cpu", torch_threads=1)
    yield c
    c.close()


def test_runner_emits_progress_in_the_gui_thread_then_finished(qtbot, client, phantom):
    runner = DetectionRunner(client)
    gui = threading.current_thread()
    seen: list[tuple[float, str, bool]] = []
    runner.progress.connect(lambda f, m: seen.append((f, m, threading.current_thread() is gui)))
    failures: list[str] = []
    runner.failed.connect(failures.append)
    with qtbot.waitSignal(runner.finished, timeout=120_000) as blocker:
        runner.start(phantom.volume, saliency=False)
    reply = blocker.args[0]
    assert not failures
    truth = phantom.nodules[0]
    assert min(np.linalg.norm(np.subtract(f.center, truth.center)) for f in reply.findings) \
        <= truth.diameter_mm / 2
    assert seen and all(in_gui for _, _, in_gui in seen)
    assert runner.wait(5)


def test_cancel_emits_cancelled_and_failed_then_the_next_run_works(qtbot, client, phantom):
    runner = DetectionRunner(client)
    runner.progress.connect(lambda f, m: runner.cancel() if f >= 0.1 else None)
    messages: list[str] = []
    runner.failed.connect(messages.append)
    with qtbot.waitSignals([runner.cancelled, runner.failed], timeout=120_000, order="strict"):
        runner.start(phantom.volume, saliency=False)
    assert len(messages) == 1 and "cancelled" in messages[0]
    runner.progress.disconnect()
    assert runner.wait(5)
    with qtbot.waitSignal(runner.finished, timeout=120_000):
        runner.start(phantom.volume, saliency=False)


def test_killed_worker_is_a_message_and_the_next_run_restarts_it(qtbot, client, phantom):
    runner = DetectionRunner(client)
    pid = client.start().pid
    runner.progress.connect(lambda f, m: os.kill(pid, signal.SIGKILL) if f >= 0.1 and
                            client.worker_pid == pid else None)
    with qtbot.waitSignal(runner.failed, timeout=120_000) as blocker:
        runner.start(phantom.volume, saliency=False)
    assert "killed by signal 9" in blocker.args[0] and "started again" in blocker.args[0]
    runner.progress.disconnect()
    assert runner.wait(5)
    with qtbot.waitSignal(runner.finished, timeout=120_000):
        runner.start(phantom.volume, saliency=False)
    assert client.worker_pid not in (None, pid)


def test_start_while_running_is_refused(qtbot, client, phantom):
    runner = DetectionRunner(client)
    with qtbot.waitSignal(runner.finished, timeout=120_000):
        runner.start(phantom.volume, saliency=False)
        assert runner.is_running()  # the request takes seconds; start() returned at once
        with pytest.raises(RuntimeError, match="already running"):
            runner.start(phantom.volume)
