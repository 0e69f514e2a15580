"""What the runtime knows of a model's velocity loop: its settings, its law, its bound."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from memaug_common.description import load_robot_description
from memaug_policy.controller import PolicyController
from memaug_policy.model import load_policy
from memaug_policy.state import command_limits
from memaug_policy.velocity_loop import VelocityFeedback

GO2 = load_robot_description("go2")
SHIPPED = Path(__file__).parents[2] / "config" / "policies" / "go2_memaug.onnx"
LOOP = VelocityFeedback(gain=2.0, time_constant_s=0.5, max_fraction=0.4, max_yaw_fraction=0.4, yaw_gain=2.0)  # v8's
LIMITS = command_limits({"vx": (-0.4, 0.8), "vy": (-0.3, 0.3), "yaw_rate": (-0.8, 0.8)})


def test_settings_come_from_the_provenance_or_not_at_all() -> None:
    assert VelocityFeedback.from_provenance({"method": "memaug"}) is None
    settings = {"gain": 1.5, "time_constant_s": 0.3, "max_fraction": 0.2, "max_yaw_fraction": 0.9, "yaw_gain": 4.0}
    assert VelocityFeedback.from_provenance({"velocity_feedback": settings}) == VelocityFeedback(
        1.5, 0.3, 0.2, 0.9, 4.0
    )
    # A model exported before the yaw rate had its own bound and gain (v8) uses the planar ones.
    before = {"gain": 1.5, "time_constant_s": 0.5, "max_fraction": 0.3}
    assert VelocityFeedback.from_provenance({"velocity_feedback": before}) == VelocityFeedback(1.5, 0.5, 0.3, 0.3, 1.5)
    with pytest.raises(ValueError, match="malformed"):
        VelocityFeedback.from_provenance({"velocity_feedback": {"gain": 1.0, "gian": 2.0}})


@pytest.mark.parametrize(
    ("command", "error", "correction", "saturated"),
    [
        ((0.5, 0.0, 0.0), (0.05, 0.0, 0.0), (0.1, 0.0, 0.0), False),
        ((0.4, 0.3, 0.0), (0.5, -0.5, 0.0), (0.2, -0.2, 0.0), True),  # 0.4 x |(0.4, 0.3)| per planar axis
        ((0.5, 0.0, 0.5), (0.0, 0.0, -0.2), (0.0, 0.0, -0.2), True),  # yaw: 0.4 x |0.5|
        ((0.0, 0.0, 0.0), (0.4, 0.4, 0.4), (0.0, 0.0, 0.0), False),  # a stand command: nothing to bound
        ((0.0, 0.3, 0.0), (0.0, 0.1, 0.0), (0.0, 0.0, 0.0), True),  # at the trained range's edge: no further
        ((0.0, 0.3, 0.0), (0.0, 0.02, 0.0), (0.0, 0.0, 0.0), False),  # (the edge alone is no saturation)
        ((0.0, 0.3, 0.0), (0.0, -0.1, 0.0), (0.0, -0.12, 0.0), True),  # but back from it, to its bound
    ],
)
def test_the_correction_is_k_times_the_error_within_a_fraction_of_the_command(
    command, error, correction, saturated
) -> None:
    got, at_bound = LOOP.correct(np.array(command), np.array(error), LIMITS)
    assert got == pytest.approx(correction)
    assert at_bound is saturated


def test_the_yaw_rate_has_its_own_bound() -> None:
    """The gyro measures the yaw rate; the planar axes read the actor's estimate: a loop may
    correct the yaw rate harder, and by more of its command, than vx and vy."""
    loop = VelocityFeedback(gain=2.0, time_constant_s=0.5, max_fraction=0.4, max_yaw_fraction=1.0, yaw_gain=4.0)
    wide = command_limits({"vx": (-0.4, 0.8), "vy": (-0.3, 0.3), "yaw_rate": (-1.2, 1.2)})
    got, at_bound = loop.correct(np.array([0.3, 0.0, 0.6]), np.array([0.5, 0.0, 0.5]), wide)
    assert got == pytest.approx([0.12, 0.0, 0.6]) and at_bound  # 0.4 x 0.3 m/s; 1.0 x 0.6 rad/s
    got, at_bound = loop.correct(np.array([0.3, 0.0, 0.6]), np.array([0.01, 0.0, 0.1]), wide)
    assert got == pytest.approx([0.02, 0.0, 0.4]) and not at_bound  # K 2 and 4
    got, _ = loop.correct(np.array([0.3, 0.0, 0.8]), np.array([0.0, 0.0, 0.5]), wide)
    assert got == pytest.approx([0.0, 0.0, 0.4])  # and never past the trained range
    with pytest.raises(ValueError, match="max yaw fraction"):
        VelocityFeedback(max_yaw_fraction=1.5)
    with pytest.raises(ValueError, match="yaw gain"):
        VelocityFeedback(yaw_gain=-1.0)


def test_a_robot_held_in_place_drives_the_shipped_loop_to_its_bound() -> None:
    """The shipped model carries a loop. Standing state under a forward command reads as a robot
    that does not move: the loop's error grows and its correction reaches +0.4 x 0.5 m/s."""
    controller = PolicyController(load_policy(SHIPPED), GO2)
    assert controller.loop == VelocityFeedback()
    zeros, upright = np.zeros(GO2.num_joints), np.array([1.0, 0.0, 0.0, 0.0])
    outputs = [controller.step(GO2.default_pose, zeros, np.zeros(3), upright, np.array([0.5, 0.0, 0.0]))]
    assert outputs[0].command_correction == pytest.approx(np.zeros(3)) and not outputs[0].loop_saturated
    outputs += [
        controller.step(GO2.default_pose, zeros, np.zeros(3), upright, np.array([0.5, 0.0, 0.0])) for _ in range(200)
    ]
    assert outputs[-1].command_correction[0] == pytest.approx(0.2) and outputs[-1].loop_saturated
    controller.reset()  # a new start forgets the loop's error with the memory
    fresh = controller.step(GO2.default_pose, zeros, np.zeros(3), upright, np.array([0.5, 0.0, 0.0]))
    assert fresh.command_correction == pytest.approx(np.zeros(3))


def test_a_model_without_a_loop_reports_no_correction(gru_policy: Path) -> None:
    controller = PolicyController(load_policy(gru_policy), GO2)
    assert controller.loop is None
    out = controller.step(GO2.default_pose, np.zeros(12), np.zeros(3), np.array([1.0, 0, 0, 0]), np.array([0.5, 0, 0]))
    assert not out.command_correction.any() and not out.loop_saturated
