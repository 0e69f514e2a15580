"""The motors' torque-speed envelope: one law for training, the sim bridge and the emulator.

A DC motor's torque is bounded by a line in the (speed, torque) plane: at zero speed it
could give its saturation torque S, and the torque it can *drive* with falls linearly to
zero at its velocity limit v_max; braking (torque against the motion) keeps the full line
on the other side. The current limit caps both at the torque limit L:

    upper(dq) = clip(S (1 - dq / v_max), -L, L)
    lower(dq) = clip(S (-1 - dq / v_max), -L, L)

so a joint at v_max can only hold or slow down, never speed up. S comes from the robot
description: L / (1 - torque_speed_corner), full torque up to that fraction of v_max.
Arrays are [..., J] in description order: dq rad/s, torques N m.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memaug_common.arrays import clip
from memaug_common.description import RobotDescription


@dataclass(frozen=True)
class TorqueSpeedEnvelope:
    saturation: np.ndarray  # [J] N m, the line's torque at zero speed
    velocity_limit: np.ndarray  # [J] rad/s, where the line reaches zero
    torque_limit: np.ndarray  # [J] N m

    @classmethod
    def for_robot(cls, description: RobotDescription) -> TorqueSpeedEnvelope:
        return cls(description.saturation_torques, description.velocity_limits, description.torque_limits)

    def bounds(self, dq: np.ndarray, strength: np.ndarray | float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper) torque the motors can give at joint speed ``dq``, each [..., J].

        ``strength`` ([..., J] or a scalar) scales the whole envelope (a weak or failed motor).
        """
        speed = dq / self.velocity_limit
        upper = clip(self.saturation * (1.0 - speed), -self.torque_limit, self.torque_limit)
        lower = clip(self.saturation * (-1.0 - speed), -self.torque_limit, self.torque_limit)
        return lower * strength, upper * strength

    def clip(self, tau: np.ndarray, dq: np.ndarray, strength: np.ndarray | float = 1.0) -> np.ndarray:
        """``tau`` [..., J] N m limited to what the motors can give at ``dq``."""
        lower, upper = self.bounds(dq, strength)
        return clip(tau, lower, upper)
