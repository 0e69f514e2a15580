"""The run summary's measures, on hand-made signals (no bag, no ROS)."""

from __future__ import annotations

import numpy as np
import pytest

from memaug_bringup.summary import windowed_tracking_error

T = np.arange(0.0, 10.0, 0.01)  # 100 Hz, 10 s
COMMAND = np.tile([0.5, 0.0, 0.0], (len(T), 1))


def test_a_gait_ripple_around_the_command_averages_out() -> None:
    """A trot's forward velocity swings within each step; over whole windows it follows the command."""
    velocity = np.zeros((len(T), 3))
    velocity[:, 0] = 0.5 + 0.2 * np.sin(2 * np.pi * 3.0 * T)  # 3 Hz ripple, 3 cycles per window
    velocity[:, 1] = 0.1 * np.sin(2 * np.pi * 3.0 * T)  # lateral sway, once per stride
    assert windowed_tracking_error(T, COMMAND, velocity, 1.0) < 0.01
    instantaneous = np.mean(np.linalg.norm(COMMAND[:, :2] - velocity[:, :2], axis=1))
    assert instantaneous > 0.1  # what the instantaneous measure would call an error


def test_a_slow_robot_shows_its_speed_deficit() -> None:
    velocity = np.tile([0.3, 0.0, 0.0], (len(T), 1))
    assert windowed_tracking_error(T, COMMAND, velocity, 1.0) == pytest.approx(0.2)


def test_lateral_error_counts_and_too_short_runs_are_nan() -> None:
    velocity = np.tile([0.5, 0.1, 0.0], (len(T), 1))
    assert windowed_tracking_error(T, COMMAND, velocity, 1.0) == pytest.approx(0.1)
    assert np.isnan(windowed_tracking_error(T[:50], COMMAND[:50], velocity[:50], 1.0))
