"""Policy actions -> joint position targets: q* = q_default + scale * a, clipped to limits.

Arrays are [..., num_joints] in description order; targets in rad.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memaug_common.arrays import clip
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

    def unclipped(self, actions: np.ndarray) -> np.ndarray:
        """The targets the actions ask for before the joint range's clip, rad."""
        return self.default_pose + self.scale * clip(actions, -ACTION_CLIP, ACTION_CLIP)

    def in_range(self, targets: np.ndarray) -> np.ndarray:
        """``targets`` clipped into the joint range, rad."""
        return clip(targets, self.lower, self.upper)

    def targets(self, actions: np.ndarray) -> np.ndarray:
        return self.in_range(self.unclipped(actions))


@dataclass(frozen=True)
class PolicyActionMap:
    """A model's action contract on a robot: raw output [J] in the policy's joint order ->
    targets [J] in the description's order, rad, inside the joint range.

    q*_policy = clip(offset + scale * clip(a, raw_clip), target_clip); then reordered by the
    joint map and clipped to the description's range. Format-1 models (scalar scale, offset =
    default pose, raw clip +-ACTION_CLIP) get exactly ActionMap's targets.
    """

    order: np.ndarray  # [J] description index of each policy joint
    scale: np.ndarray  # [J] policy order
    offset: np.ndarray  # [J] rad, policy order
    raw_clip: np.ndarray | None  # [J, 2]
    target_clip: np.ndarray | None  # [J, 2] rad
    lower: np.ndarray  # [J] rad, description order
    upper: np.ndarray

    def clipped(self, actions: np.ndarray) -> np.ndarray:
        """The raw output after the raw clip (what 'clipped' last-action feedback sees)."""
        if self.raw_clip is None:
            return actions
        return np.clip(actions, self.raw_clip[:, 0], self.raw_clip[:, 1])

    def targets(self, actions: np.ndarray) -> np.ndarray:
        policy = self.offset + self.scale * self.clipped(actions)
        if self.target_clip is not None:
            policy = np.clip(policy, self.target_clip[:, 0], self.target_clip[:, 1])
        robot = np.empty_like(policy)
        robot[self.order] = policy
        return np.clip(robot, self.lower, self.upper)
