"""Real-time scheduling (SCHED_FIFO) for the processes on a robot's control path. ROS-free.

Linux schedules threads, not processes, and a new thread inherits its creator's policy. So a
process that must be timely as a whole (the Go2 bridge's loop, the emulator) sets its priority
before it creates its DDS participant, and Cyclone's receive threads inherit it; a node whose
threads already exist (rclpy's executor and DDS threads) sets every one of them
(``try_process_realtime_priority``). A SCHED_FIFO loop thread beside a normal-priority
receive thread, the bridge's earlier design, starved that thread on a loaded 2-core machine;
a policy node at normal priority beside real-time bridge and emulator processes missed its
deadlines and the robot fell. bench/bench_robot_loop.py measures the emulator stack per
priority setting.

All of it needs root or CAP_SYS_NICE, and a real-time budget; where the system refuses, the
threads keep their priority and the caller says so in its log.
"""

from __future__ import annotations

import os
from pathlib import Path


def try_realtime_priority(priority: int) -> bool:
    """Put the calling thread under SCHED_FIFO at ``priority`` (1-99). False where the system
    refuses (no root or CAP_SYS_NICE, or no real-time budget): the thread keeps its priority."""
    return _set_fifo(0, priority)


def try_process_realtime_priority(priority: int) -> bool:
    """Put every thread of this process under SCHED_FIFO at ``priority`` (1-99); threads
    started later inherit it from their creator. False where the system refuses any of them
    (those threads keep their priority)."""
    threads = [int(task.name) for task in Path("/proc/self/task").iterdir()]
    granted = [_set_fifo(tid, priority) for tid in threads]
    return bool(granted) and all(granted)


def normal_priority() -> None:
    """Put the calling thread back under the normal scheduler (SCHED_OTHER): a process started
    by a real-time thread inherits its priority, which a process meant to run at normal
    priority must drop before it starts its own threads."""
    if os.sched_getscheduler(0) != os.SCHED_OTHER:
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))


def _set_fifo(tid: int, priority: int) -> bool:
    try:
        os.sched_setscheduler(tid, os.SCHED_FIFO, os.sched_param(priority))
    except ProcessLookupError:
        return True  # the thread ended meanwhile: nothing left to schedule
    except (OSError, AttributeError):
        return False
    return True


def node_priority_problem(priority: int) -> str | None:
    """Apply a node's ``node_priority`` parameter to its whole process (0: leave it normal);
    what went wrong, for the node's log, or None."""
    if not priority or try_process_realtime_priority(priority):
        return None
    return f"node at normal priority: SCHED_FIFO {priority} refused (needs root or CAP_SYS_NICE)"
