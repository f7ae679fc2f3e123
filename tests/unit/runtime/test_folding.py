"""The one refresh policy: one run in flight, requests meanwhile fold into exactly one more, failures included."""

from __future__ import annotations

import threading

import pytest

from aicost_desktop.runtime.folding import Folded


def test_requests_during_a_run_fold_into_exactly_one_more() -> None:
    started: list[int] = []
    runs = Folded(lambda: started.append(1))
    assert runs.request() is True
    for _ in range(5):
        assert runs.request() is False  # folded while the first runs
    assert len(started) == 1 and runs.running and runs.pending
    assert runs.done() is True and len(started) == 2 and runs.running  # the folded one started at once
    assert runs.done() is False and not runs.running and len(started) == 2


def test_a_failed_run_still_runs_the_folded_one() -> None:
    """The job's failure path calls done() like its success path: the change that came in is not lost."""
    outcomes = iter([RuntimeError("db locked"), "rows"])
    applied: list[object] = []
    runs: Folded

    def start() -> None:
        pass  # the job is "in flight" until finish() below

    def finish() -> None:
        result = next(outcomes)
        if not isinstance(result, Exception):
            applied.append(result)
        runs.done()

    runs = Folded(start)
    runs.request()
    runs.request()  # a change during the failing load
    finish()        # fails
    assert runs.running  # the folded load started
    finish()
    assert applied == ["rows"] and not runs.running


def test_a_start_that_raises_frees_the_slot() -> None:
    calls: list[int] = []

    def start() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("pool gone")

    runs = Folded(start)
    with pytest.raises(OSError):
        runs.request()
    assert not runs.running
    assert runs.request() is True and len(calls) == 2


def test_thread_safe_under_concurrent_requests() -> None:
    """Four threads hammer request() while runs end on other threads: never two runs at once, and the last
    request is always followed by a run that started after it."""
    cond = threading.Condition()
    state = {"in_flight": 0, "peak": 0, "runs": 0}
    runs: Folded

    def start() -> None:
        with cond:
            state["in_flight"] += 1
            state["peak"] = max(state["peak"], state["in_flight"])
            state["runs"] += 1

        def end() -> None:
            with cond:
                state["in_flight"] -= 1
            runs.done()
            with cond:
                cond.notify_all()
        threading.Thread(target=end).start()

    runs = Folded(start)
    threads = [threading.Thread(target=lambda: [runs.request() for _ in range(200)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with cond:
        assert cond.wait_for(lambda: not runs.running, 10)
    assert state["peak"] == 1 and 1 <= state["runs"] <= 800 and state["in_flight"] == 0
