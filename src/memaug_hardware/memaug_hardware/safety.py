"""The bridge's own safety, independent of the policy node. ROS-free; times in seconds.

Modes: DISARMED (damping; the initial state), ARMED (PD toward fresh /joint_commands),
FAULT (damping, latched until disarm + re-arm). While armed, a command older than
``command_timeout_s`` gives damping (not a fault: the policy may resume). Stale or corrupt
lowstate, a joint outside its range, a joint over its velocity limit, a tilted or lying
base, and /estop give FAULT.

Velocity protection has a margin and a persistence: a joint faults when it is over
``velocity_factor`` x its velocity limit (robot description) for ``velocity_samples``
consecutive lowstates. A single sample over the limit is what a foot strike's vibration
reads on an encoder and what tripped the bridge 1.5 s into a walk; a motor really running
away stays over it. The torque-speed envelope already gives a joint at its limit no torque
to go faster.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from memaug_common.attitude import MAX_TILT_DEG, attitude_problem
from memaug_common.description import RobotDescription
from memaug_common.remote_map import DAMP_CHORD
from memaug_hardware.protocol import MotorCommand, RobotState
from memaug_hardware.remote import RemoteState
from memaug_policy.observation import projected_gravity


class BridgeMode(enum.Enum):
    DISARMED = "disarmed"
    ARMED = "armed"
    FAULT = "fault"


@dataclass(frozen=True)
class SafetyLimits:
    command_timeout_s: float = 0.05
    state_timeout_s: float = 0.05
    position_margin_rad: float = 0.05  # beyond the joint range by more than this: fault
    velocity_factor: float = 1.1  # of the description's velocity limit
    velocity_samples: int = 10  # consecutive lowstates over it (20 ms at 500 Hz)
    arm_max_tilt: float = 0.5  # |g_xy| above this (about 30 deg): not a safe posture to arm from
    max_tilt_deg: float = MAX_TILT_DEG  # armed: a base tilted further from upright faults


class BridgeSafety:
    def __init__(self, description: RobotDescription, limits: SafetyLimits) -> None:
        self.description = description
        self.limits = limits
        self.mode = BridgeMode.DISARMED
        self.reason = "not armed"
        self.estop = False
        self._command: tuple[np.ndarray, np.ndarray, np.ndarray, float] | None = None  # q*, dq*, tau_ff, time
        self._state_time = -np.inf
        self.counters = {"bad_crc": 0, "non_finite_state": 0, "watchdog_damping": 0, "faults": 0}
        self._over_speed = np.zeros(description.num_joints, dtype=np.int64)  # consecutive samples
        self._bad_crc_since_valid = 0

    # --- inputs -------------------------------------------------------------------------
    def on_state(self, state: RobotState, crc_valid: bool, now_s: float) -> bool:
        """Take one rt/lowstate; True if it is a valid measurement (the bridge publishes it).

        A frame with a bad CRC is dropped and counted, not a fault by itself: a corrupt frame
        among good ones changes nothing, and no valid frame for state_timeout_s is the stale
        state fault, whose message then names the CRC.
        """
        if not crc_valid:
            self.counters["bad_crc"] += 1
            self._bad_crc_since_valid += 1
            return False
        if not state.finite():
            self.counters["non_finite_state"] += 1
            self._fault("lowstate holds NaN or inf")
            return False
        self._state_time = now_s
        self._bad_crc_since_valid = 0
        if self.mode is BridgeMode.ARMED:
            d, lim = self.description, self.limits
            outside = (state.position < d.lower_limits - lim.position_margin_rad) | (
                state.position > d.upper_limits + lim.position_margin_rad
            )
            if outside.any():
                self._fault(f"joint {d.joint_names[int(np.argmax(outside))]} outside its range")
            over = np.abs(state.velocity) > d.velocity_limits * lim.velocity_factor
            self._over_speed = np.where(over, self._over_speed + 1, 0)
            if (self._over_speed >= lim.velocity_samples).any():
                joint = int(np.argmax(self._over_speed))
                self._fault(
                    f"joint {d.joint_names[joint]} over its velocity limit ({abs(state.velocity[joint]):.1f} rad/s > "
                    f"{lim.velocity_factor:g} x {d.velocity_limits[joint]:g} for {lim.velocity_samples} samples)"
                )
            problem = attitude_problem(projected_gravity(state.orientation_wxyz), lim.max_tilt_deg)
            if problem is not None:
                self._fault(problem)
        return True

    def stale_reason(self, now_s: float) -> str:
        """Why there is no fresh lowstate: its age, and the bad CRCs if frames came but failed it."""
        age = now_s - self._state_time
        reason = f"stale lowstate ({age:.3f} s old)" if np.isfinite(age) else "no valid lowstate"
        if self._bad_crc_since_valid:
            reason += (
                f": {self._bad_crc_since_valid} frames since the last valid one had a bad CRC "
                "(a simulator that leaves LowState_.crc at 0 needs lowstate_crc:=ignore)"
            )
        return reason

    def on_remote(self, remote: RemoteState) -> None:
        """The remote's damp chord (L2 + B) damps and latches, whatever the ROS graph does."""
        if remote.pressed(DAMP_CHORD) and self.mode is not BridgeMode.FAULT:
            self._fault("remote damp (L2 + B)")

    def on_command(self, position: np.ndarray, velocity: np.ndarray, effort: np.ndarray, now_s: float) -> None:
        self._command = (position, velocity, effort, now_s)

    def set_estop(self, engaged: bool) -> None:
        self.estop = engaged
        if engaged:
            self._fault("e-stop")

    def arm(self, state: RobotState | None, now_s: float, gravity_xy: float) -> tuple[bool, str]:
        """Arm only from a fresh, finite state, in a safe posture, with no e-stop."""
        if self.estop:
            return False, "e-stop engaged"
        if state is None or now_s - self._state_time > self.limits.state_timeout_s:
            return False, self.stale_reason(now_s)
        if gravity_xy > self.limits.arm_max_tilt:
            return False, f"unsafe posture to arm from (tilt |g_xy| = {gravity_xy:.2f})"
        self.mode, self.reason = BridgeMode.ARMED, "armed"
        self._over_speed[:] = 0
        # A command that arrived before arming is not a request to move now: a stale target
        # (often far from the measured pose) would make the robot jump on activation.
        self._command = None
        return True, "armed"

    def disarm(self, reason: str = "disarmed") -> None:
        self.mode, self.reason = BridgeMode.DISARMED, reason

    def _fault(self, reason: str) -> None:
        if self.mode is not BridgeMode.FAULT:
            self.counters["faults"] += 1
        self.mode, self.reason = BridgeMode.FAULT, reason

    # --- output -------------------------------------------------------------------------
    def motor_command(self, now_s: float) -> MotorCommand:
        """What to send this tick: PD toward a fresh command while armed, damping otherwise."""
        d = self.description
        damping = MotorCommand.damping(d.num_joints, d.passive_kd)
        if self.mode is not BridgeMode.ARMED:
            return damping
        if now_s - self._state_time > self.limits.state_timeout_s:
            self._fault(self.stale_reason(now_s))
            return damping
        if self._command is None or now_s - self._command[3] > self.limits.command_timeout_s:
            self.counters["watchdog_damping"] += 1
            return damping
        position, velocity, effort, _ = self._command
        return MotorCommand(
            position=np.clip(position, d.lower_limits, d.upper_limits),
            velocity=np.clip(velocity, -d.velocity_limits, d.velocity_limits),
            kp=d.kp.copy(),
            kd=d.kd.copy(),
            effort=np.clip(effort, -d.torque_limits, d.torque_limits),
        )
