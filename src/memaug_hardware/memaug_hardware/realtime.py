"""Real-time scheduling for the bridge's 500 Hz loop thread, where the system permits it.

bench/bench_loop_timing.py measures what holds a 2 ms period in Python on a machine (figures
in bench/results/bench_loop_timing.txt): SCHED_FIFO is what moves the loop's p99; a hybrid
sleep-then-spin wait, a short GIL switch interval and a frozen collector do not measurably.
SCHED_FIFO is off by default: on a loaded 2-core machine a real-time loop thread starved the
process's own DDS receive thread (normal priority) and the bridge faulted on stale lowstate.
"""

from __future__ import annotations

import os


def try_realtime_priority(priority: int) -> bool:
    """Put the calling thread under SCHED_FIFO at ``priority`` (1-99). False where the system
    refuses (no root or CAP_SYS_NICE, or no real-time budget): the thread keeps its priority."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except (OSError, AttributeError):
        return False
    return True
