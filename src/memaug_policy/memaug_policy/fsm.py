"""The control state machine of the policy node. ROS-free; time in seconds of the node clock.

    idle --start--> stand --(interpolation done + hold, or start)--> run
    stand/run --stop--> damp ; any --estop--> damp (start refused while the e-stop is engaged)
    stand/run --fault (state stale for stale_ticks_allowed + 1 ticks, non-finite value, tilt,
              bridge fault or disarm)--> damp, with the reason kept
    damp --start--> stand

In idle and damp the node sends no command, so the bridge's watchdog holds it in damping.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np


class Mode(enum.Enum):
    IDLE = "idle"
    STAND = "stand"
    RUN = "run"
    DAMP = "damp"


@dataclass(frozen=True)
class StandPlan:
    """Linear interpolation from the measured pose to the default pose, then a hold."""

    start_pose: np.ndarray  # [J] rad
    target_pose: np.ndarray  # [J] rad
    start_time_s: float
    duration_s: float

    def targets(self, now_s: float) -> np.ndarray:
        alpha = np.clip((now_s - self.start_time_s) / self.duration_s, 0.0, 1.0) if self.duration_s > 0 else 1.0
        return self.start_pose + alpha * (self.target_pose - self.start_pose)

    def done(self, now_s: float) -> bool:
        return now_s - self.start_time_s >= self.duration_s


class ControlFsm:
    def __init__(self, default_pose: np.ndarray, stand_duration_s: float, stand_hold_s: float, auto_run: bool) -> None:
        self.default_pose = default_pose
        self.stand_duration_s = stand_duration_s
        self.stand_hold_s = stand_hold_s
        self.auto_run = auto_run
        self.mode = Mode.IDLE
        self.reason = "waiting for ~/start"
        self.estop = False
        self.stand: StandPlan | None = None
        self.entered_run = False  # set when RUN is entered; the node resets the memory and clears it

    def start(self, now_s: float, measured_pose: np.ndarray | None) -> tuple[bool, str]:
        """~/start: idle/damp -> stand; stand -> run. Returns (accepted, message)."""
        if self.estop:
            return False, "e-stop engaged: release /estop first"
        if self.mode in (Mode.IDLE, Mode.DAMP):
            if measured_pose is None:
                return False, "no /joint_states received yet: cannot plan the stand-up"
            self.stand = StandPlan(measured_pose.copy(), self.default_pose, now_s, self.stand_duration_s)
            return self._enter(Mode.STAND, "standing up"), "standing up"
        if self.mode is Mode.STAND:
            self._enter(Mode.RUN, "policy running")
            return True, "policy running"
        return False, "already running"

    def stop(self, reason: str = "stopped by ~/stop") -> tuple[bool, str]:
        if self.mode in (Mode.IDLE, Mode.DAMP):
            return False, f"already {self.mode.value}"
        self._enter(Mode.DAMP, reason)
        return True, reason

    def fault(self, reason: str) -> None:
        """A safety problem: stop commanding (damp) and keep the reason."""
        if self.mode in (Mode.STAND, Mode.RUN):
            self._enter(Mode.DAMP, reason)

    def set_estop(self, engaged: bool) -> None:
        self.estop = engaged
        if engaged:
            if self.mode in (Mode.STAND, Mode.RUN):
                self._enter(Mode.DAMP, "e-stop")
            else:
                self.reason = "e-stop"

    def tick(self, now_s: float) -> None:
        """Advance time-driven transitions (stand -> run when done and auto_run)."""
        standing = self.mode is Mode.STAND and self.stand is not None
        if standing and self.auto_run and self.stand.done(now_s - self.stand_hold_s):  # type: ignore[union-attr]
            self._enter(Mode.RUN, "policy running")

    def _enter(self, mode: Mode, reason: str) -> bool:
        self.mode = mode
        self.reason = reason
        if mode is Mode.RUN:
            self.entered_run = True
        return True
