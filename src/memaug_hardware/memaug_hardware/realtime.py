"""Real-time scheduling for the Go2 bridge's loop process (and the emulator), where the system permits it.

Called before the process creates its DDS participant, so that Cyclone's receive threads,
which the participant starts, inherit SCHED_FIFO: the receive path is as timely as the loop.
(A SCHED_FIFO loop thread beside a normal-priority receive thread, the bridge's earlier
design, starved that thread on a loaded 2-core machine and faulted on stale lowstate.)
bench/bench_robot_loop.py measures the whole emulator stack with and without it.
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
