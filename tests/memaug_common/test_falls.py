"""The one fall definition shared by training terminations (with knees down) and run summaries."""

from __future__ import annotations

import numpy as np

from memaug_common.falls import FALL_HEIGHT_M, FALL_TILT, fallen


def tilted(angle_rad: float) -> np.ndarray:
    """Gravity in the base frame of a robot pitched by ``angle_rad``, [3]."""
    return np.array([np.sin(angle_rad), 0.0, -np.cos(angle_rad)])


def test_standing_robot_is_up_and_low_or_tipped_robots_are_down() -> None:
    heights = np.array([0.30, FALL_HEIGHT_M - 0.01, 0.30, 0.30])
    gravity = np.stack([tilted(0.0), tilted(0.0), tilted(np.deg2rad(50)), tilted(np.deg2rad(30))])
    assert fallen(heights, gravity).tolist() == [False, True, True, False]


def test_the_tilt_threshold_is_about_45_degrees() -> None:
    assert 43 < np.rad2deg(np.arcsin(FALL_TILT)) < 46
