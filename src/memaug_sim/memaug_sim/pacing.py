"""Pacing of the physics loop: wall-clock (realtime) or capped/uncapped (lockstep)."""

from __future__ import annotations

import time


class Pacer:
    """Sleeps so that sim time advances at ``realtime_factor`` x wall time (0: never sleeps).

    Deadlines are absolute, so a late step does not push every later step back; after a
    stall longer than ``max_lag_s`` it re-anchors instead of running a burst to catch up.
    """

    def __init__(self, realtime_factor: float, max_lag_s: float = 0.1) -> None:
        self._factor = realtime_factor
        self._max_lag_s = max_lag_s
        self._wall0 = time.perf_counter()
        self._sim0 = 0.0

    def wait_until(self, sim_time_s: float) -> None:
        """Return when the wall clock has caught up with ``sim_time_s``."""
        if self._factor <= 0.0:
            return
        deadline = self._wall0 + (sim_time_s - self._sim0) / self._factor
        now = time.perf_counter()
        if now - deadline > self._max_lag_s:
            self._wall0, self._sim0 = now, sim_time_s
            return
        # Plain sleep, no busy-wait: on a 2-core machine the policy node needs the CPU more
        # than the bridge needs the last ~0.1 ms of timing accuracy.
        if (remaining := deadline - now) > 0:
            time.sleep(remaining)


class Every:
    """Fires once per ``period_s`` of sim time, on the first step at or after each tick.

    With a physics period that does not divide ``period_s`` the average rate is still
    exact; individual intervals differ by at most one physics step.
    """

    def __init__(self, period_s: float) -> None:
        self._period = period_s
        self._next = period_s

    def due(self, sim_time_s: float) -> bool:
        if sim_time_s + 1e-9 < self._next:
            return False
        self._next += self._period
        if self._next <= sim_time_s:  # fell behind (e.g. a rate above the physics rate)
            self._next = sim_time_s + self._period
        return True
