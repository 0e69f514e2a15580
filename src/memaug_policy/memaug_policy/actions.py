"""Policy actions -> joint position targets: q* = q_default + scale * a, clipped to limits.

Arrays are [..., num_joints] in description order; targets in rad.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memaug_common.description import RobotDescription

#: Raw actions beyond this magnitude are clipped before scaling (a bound on a runaway output).
ACTION_CLIP = 10.0


@dataclass(frozen=True)
class ActionMap:
    default_pose: np.ndarray
    scale: float
    lower: np.ndarray
    upper: np.ndarray

    @classmethod
    def for_robot(cls, description: RobotDescription, scale: float) -> ActionMap:
        return cls(description.default_pose, scale, description.lower_limits, description.upper_limits)

    def targets(self, actions: np.ndarray) -> np.ndarray:
        clipped = np.clip(actions, -ACTION_CLIP, ACTION_CLIP)
        return np.clip(self.default_pose + self.scale * clipped, self.lower, self.upper)
