"""Commands the bridge accepts, reorders, clips, or rejects with a named reason."""

from __future__ import annotations

import numpy as np
import pytest

from memaug_common.description import load_robot_description
from memaug_sim.commands import CommandRejected, joint_command_from_fields

GO2 = load_robot_description("go2")
NAMES = list(GO2.joint_names)


def test_named_joints_in_any_order_are_reordered() -> None:
    order = list(reversed(range(12)))
    position = [GO2.default_pose[i] + 0.01 * i for i in order]
    command = joint_command_from_fields(GO2, [NAMES[i] for i in order], position, [], [])
    np.testing.assert_allclose(command.position, GO2.default_pose + 0.01 * np.arange(12))
    np.testing.assert_array_equal(command.velocity, np.zeros(12))


def test_out_of_range_targets_are_clipped_to_limits() -> None:
    command = joint_command_from_fields(GO2, [], [100.0] * 12, [-1e3] * 12, [])
    np.testing.assert_array_equal(command.position, GO2.upper_limits)
    np.testing.assert_array_equal(command.velocity, -GO2.velocity_limits)


@pytest.mark.parametrize(
    ("names", "position", "velocity", "message"),
    [
        ([], [0.0] * 11, [], "position has 11 values, expected 12"),
        ([], [0.0] * 12, [0.0] * 3, "velocity has 3 values"),
        ([], [float("nan")] + [0.0] * 11, [], "non-finite"),
        ([], [0.0] * 12, [float("inf")] + [0.0] * 11, "non-finite"),
        ([*NAMES[:-1], "tail_joint"], [0.0] * 12, [], "unknown: \\['tail_joint'\\]"),
        ([*NAMES[:-1], NAMES[0]], [0.0] * 12, [], "missing: \\['RL_calf_joint'\\]"),
    ],
)
def test_malformed_commands_are_rejected_with_the_reason(
    names: list[str], position: list[float], velocity: list[float], message: str
) -> None:
    with pytest.raises(CommandRejected, match=message):
        joint_command_from_fields(GO2, names, position, velocity, [])
