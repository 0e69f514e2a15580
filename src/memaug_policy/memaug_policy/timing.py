"""Tick timing statistics: inference time, tick jitter, deadline misses (all in seconds)."""

from __future__ import annotations

from collections import deque

import numpy as np


class TickStats:
    def __init__(self, period_s: float, window: int = 500) -> None:
        self.period_s = period_s
        self.inference_s: deque[float] = deque(maxlen=window)
        self.jitter_s: deque[float] = deque(maxlen=window)
        self.deadline_misses = 0
        self.ticks = 0
        self._last_tick: float | None = None

    def tick(self, wall_s: float, work_s: float) -> None:
        """Record a tick that started at ``wall_s`` and whose work took ``work_s``."""
        self.ticks += 1
        if self._last_tick is not None:
            interval = wall_s - self._last_tick
            self.jitter_s.append(interval - self.period_s)
        self._last_tick = wall_s
        if work_s > self.period_s:
            self.deadline_misses += 1

    def inference(self, seconds: float) -> None:
        self.inference_s.append(seconds)

    def summary(self) -> dict[str, float]:
        inf = np.asarray(self.inference_s) * 1e3 if self.inference_s else np.zeros(1)
        jit = np.abs(np.asarray(self.jitter_s)) * 1e3 if self.jitter_s else np.zeros(1)
        return {
            "policy_step_ms_p50": float(np.percentile(inf, 50)),
            "policy_step_ms_p99": float(np.percentile(inf, 99)),
            "tick_jitter_ms_p99": float(np.percentile(jit, 99)),
            "deadline_misses": self.deadline_misses,
            "ticks": self.ticks,
        }
