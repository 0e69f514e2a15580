"""The last gate before a command leaves the policy node.

Every joint position target is finite, inside the joint range, and close enough to the
measured position that the bridge's PD torque kp * (q* - q) stays inside the torque limit.
Arrays are [J] (one robot) or [N, J] (a training batch) in description order, rad.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memaug_common.arrays import clip, namespace
from memaug_common.description import RobotDescription


@dataclass(frozen=True)
class CommandLimits:
    lower: np.ndarray
    upper: np.ndarray
    max_error: np.ndarray  # rad: torque_limit / kp

    @classmethod
    def for_robot(cls, description: RobotDescription) -> CommandLimits:
        kp = np.maximum(description.kp, 1e-9)
        return cls(description.lower_limits, description.upper_limits, description.torque_limits / kp)

    def apply(self, targets: np.ndarray, measured: np.ndarray) -> np.ndarray:
        """Clip targets into the joint range and the torque-limited band around ``measured``.

        Raises ArithmeticError if targets or measured positions are not finite: such a
        command must never be sent.
        """
        xp = namespace(targets, measured)
        if not bool(xp.all(xp.isfinite(targets)) & xp.all(xp.isfinite(measured))):  # one wait on a GPU
            raise ArithmeticError("non-finite joint target or measured position")
        band = clip(targets, measured - self.max_error, measured + self.max_error)
        return clip(band, self.lower, self.upper)
