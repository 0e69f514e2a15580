"""SCHED_FIFO for a loop thread: granted where the system permits it, refused by name otherwise."""

from __future__ import annotations

import os
import threading

from memaug_hardware.realtime import try_realtime_priority


def _in_a_thread(priority: int) -> tuple[bool, int]:
    result: list[tuple[bool, int]] = []

    def run() -> None:
        granted = try_realtime_priority(priority)
        result.append((granted, os.sched_getscheduler(0)))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return result[0]


def test_the_thread_runs_fifo_exactly_when_granted_and_the_caller_is_untouched() -> None:
    granted, policy = _in_a_thread(10)
    assert (policy == os.SCHED_FIFO) == granted
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # only the calling thread changes


def test_an_invalid_priority_is_refused_not_raised() -> None:
    assert _in_a_thread(0) == (False, os.SCHED_OTHER)  # FIFO priorities are 1-99
