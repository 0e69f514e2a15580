"""SCHED_FIFO for a thread or a whole process: granted where the system permits it, refused by name otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from memaug_common.realtime import node_priority_problem, normal_priority, try_realtime_priority


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


_PROCESS_PROBE = """
import os, threading, time
from memaug_common.realtime import try_process_realtime_priority
stop = threading.Event()
worker = threading.Thread(target=stop.wait)  # a thread that exists before the call
worker.start()
granted = try_process_realtime_priority(7)
later = threading.Thread(target=stop.wait)  # one started after it: inherits
later.start()
tasks = [int(t) for t in os.listdir("/proc/self/task")]
print(granted, sorted({(os.sched_getscheduler(t), os.sched_getparam(t).sched_priority) for t in tasks}))
stop.set()
"""


def test_a_process_priority_reaches_every_thread_existing_or_started_later() -> None:
    """In a child process (the test runner itself stays at normal priority)."""
    out = subprocess.run([sys.executable, "-c", _PROCESS_PROBE], capture_output=True, text=True, check=True).stdout
    granted, policies = out.split(" ", 1)
    expected = [(os.SCHED_FIFO, 7)] if granted == "True" else [(os.SCHED_OTHER, 0)]
    assert policies.strip() == str(expected)


def test_normal_priority_undoes_an_inherited_real_time_priority() -> None:
    result: list[int] = []

    def run() -> None:
        granted = try_realtime_priority(5)
        normal_priority()
        result.append(int(granted))
        result.append(os.sched_getscheduler(0))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert result[1] == os.SCHED_OTHER


def test_a_refused_node_priority_is_said_and_zero_asks_nothing() -> None:
    assert node_priority_problem(0) is None
    assert "SCHED_FIFO 150 refused" in (node_priority_problem(150) or "")  # priorities are 1-99
