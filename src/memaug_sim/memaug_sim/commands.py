"""Joint commands as the bridge accepts them: validated, reordered, clipped.

A /joint_commands message (sensor_msgs/JointState) carries position targets (rad),
velocity targets (rad/s) and feed-forward effort (N m). Names may be empty (then the
arrays are in description order) or name every joint once, in any order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from memaug_common.description import RobotDescription


class CommandRejected(ValueError):
    """The command is malformed; the message names the problem. Nothing is applied."""


@dataclass(frozen=True)
class JointCommand:
    """Targets for every joint, [num_joints] float64 in description order."""

    position: np.ndarray
    velocity: np.ndarray
    effort: np.ndarray


def joint_command_from_fields(
    description: RobotDescription,
    names: Sequence[str],
    position: Sequence[float],
    velocity: Sequence[float],
    effort: Sequence[float],
) -> JointCommand:
    """Validate message fields and return a JointCommand in description order.

    Position is required; empty velocity or effort mean zero. Positions are clipped to the
    joint range and velocities to the velocity limit (effort is clipped by the PD's torque
    saturation). Raises CommandRejected for wrong lengths, unknown or repeated names and
    non-finite values.
    """
    n = description.num_joints
    if names:
        if len(names) != n or set(names) != set(description.joint_names):
            unknown = sorted(set(names) - set(description.joint_names))
            missing = sorted(set(description.joint_names) - set(names))
            raise CommandRejected(
                f"joint names must name each of the {n} joints once (unknown: {unknown}, missing: {missing}, "
                f"given {len(names)})"
            )
        order = np.array([list(names).index(j) for j in description.joint_names])
    else:
        order = np.arange(n)

    def field(values: Sequence[float], label: str, required: bool) -> np.ndarray:
        if len(values) == 0 and not required:
            return np.zeros(n)
        if len(values) != n:
            raise CommandRejected(f"{label} has {len(values)} values, expected {n}")
        array = np.asarray(values, dtype=np.float64)
        if not all(math.isfinite(v) for v in array):
            raise CommandRejected(f"{label} holds a non-finite value: {array.tolist()}")
        return array[order]

    q = field(position, "position", required=True)
    dq = field(velocity, "velocity", required=False)
    tau = field(effort, "effort", required=False)
    return JointCommand(
        position=np.clip(q, description.lower_limits, description.upper_limits),
        velocity=np.clip(dq, -description.velocity_limits, description.velocity_limits),
        effort=tau,
    )
