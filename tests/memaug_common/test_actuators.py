"""The torque-speed envelope: full torque below the corner, none to drive at the limit."""

from __future__ import annotations

import numpy as np

from memaug_common.actuators import TorqueSpeedEnvelope
from memaug_common.description import load_robot_description

GO2 = load_robot_description("go2")
ENVELOPE = TorqueSpeedEnvelope.for_robot(GO2)
LIMIT, VMAX = GO2.torque_limits, GO2.velocity_limits


def test_full_torque_either_way_up_to_the_corner_speed() -> None:
    for fraction in (0.0, 0.25, GO2.torque_speed_corner):
        lower, upper = ENVELOPE.bounds(fraction * VMAX)
        np.testing.assert_allclose(upper, LIMIT)
        np.testing.assert_allclose(lower, -LIMIT)


def test_drive_torque_falls_to_zero_at_the_velocity_limit_braking_keeps_it() -> None:
    lower, upper = ENVELOPE.bounds(VMAX)
    np.testing.assert_allclose(upper, 0.0, atol=1e-9)
    np.testing.assert_allclose(lower, -LIMIT)
    # Half-way from the corner to the limit: half the torque to drive, and mirrored for -dq.
    speed = (1 + GO2.torque_speed_corner) / 2 * VMAX
    lower, upper = ENVELOPE.bounds(-speed)
    np.testing.assert_allclose(lower, -LIMIT / 2)
    np.testing.assert_allclose(upper, LIMIT)


def test_clip_caps_a_pd_torque_at_speed_and_strength_scales_the_envelope() -> None:
    dq = 0.9 * VMAX
    tau = ENVELOPE.clip(np.full_like(LIMIT, 100.0), dq)
    np.testing.assert_allclose(tau, LIMIT * 0.1 / (1 - GO2.torque_speed_corner))
    weak = ENVELOPE.clip(np.full_like(LIMIT, -100.0), np.zeros_like(dq), strength=0.5)
    np.testing.assert_allclose(weak, -0.5 * LIMIT)
