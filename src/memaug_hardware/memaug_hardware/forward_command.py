"""The second path to a robot: a ros2_control forward command controller. ROS-free core.

/joint_commands (targets in description order) become one std_msgs/Float64MultiArray per
tick in the controller's joint order, with the same safety as the Go2 bridge: a command
older than ``command_timeout_s`` is not followed, targets are clipped to the joint range,
torques to the torque limit. On a stale command a position controller is sent the measured
position (hold), an effort controller the damping torque -kd_passive * dq.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

import numpy as np

from memaug_common.description import RobotDescription
from memaug_hardware.protocol import MotorCommand, motor_torque


class ControllerKind(enum.Enum):
    POSITION = "position"
    EFFORT = "effort"


class ForwardCommandAdapter:
    def __init__(
        self,
        description: RobotDescription,
        kind: ControllerKind,
        controller_joints: Sequence[str],
        command_timeout_s: float,
    ) -> None:
        self.description = description
        self.kind = kind
        self.timeout = command_timeout_s
        unknown = [j for j in controller_joints if j not in description.joint_names]
        if unknown or len(controller_joints) != description.num_joints:
            raise ValueError(
                f"controller joints {list(controller_joints)} must name each of {list(description.joint_names)} once"
            )
        #: controller slot i carries description joint order[i]
        self.order = np.array([description.joint_index(j) for j in controller_joints])
        self._target: tuple[np.ndarray, np.ndarray, np.ndarray, float] | None = None
        self._state: tuple[np.ndarray, np.ndarray] | None = None
        self.stale_ticks = 0

    def on_command(self, position: np.ndarray, velocity: np.ndarray, effort: np.ndarray, now_s: float) -> None:
        self._target = (position, velocity, effort, now_s)

    def on_state(self, position: np.ndarray, velocity: np.ndarray) -> None:
        self._state = (position, velocity)

    def output(self, now_s: float) -> np.ndarray | None:
        """The controller's command this tick, in controller order; None before any state."""
        if self._state is None:
            return None
        d = self.description
        q, dq = self._state
        fresh = self._target is not None and now_s - self._target[3] <= self.timeout
        if not fresh:
            self.stale_ticks += 1
        if self.kind is ControllerKind.POSITION:
            values = np.clip(self._target[0], d.lower_limits, d.upper_limits) if fresh else q  # type: ignore[index]
        elif fresh:
            position, velocity, effort, _ = self._target  # type: ignore[misc]
            command = MotorCommand(np.clip(position, d.lower_limits, d.upper_limits), velocity, d.kp, d.kd, effort)
            values = motor_torque(command, q, dq, d.torque_limits)
        else:
            values = np.clip(-d.passive_kd * dq, -d.torque_limits, d.torque_limits)
        return np.asarray(values, dtype=np.float64)[self.order]
