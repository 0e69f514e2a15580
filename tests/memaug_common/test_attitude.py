"""Attitude protection: the tilt from upright, and the limit that names it."""

from __future__ import annotations

import numpy as np
import pytest

from memaug_common.attitude import attitude_problem, tilt_deg


@pytest.mark.parametrize(
    ("gravity", "degrees"),
    [((0, 0, -1), 0.0), ((1, 0, 0), 90.0), ((0, -1, 0), 90.0), ((0, 0, 1), 180.0), ((0.5, 0, -0.866), 30.0)],
)
def test_tilt_from_the_gravity_direction(gravity: tuple[float, ...], degrees: float) -> None:
    assert tilt_deg(np.array(gravity)) == pytest.approx(degrees, abs=0.05)


def test_a_base_past_the_limit_or_on_its_back_is_named() -> None:
    assert attitude_problem(np.array([0.5, 0, -0.866]), 60.0) is None
    assert attitude_problem(np.array([0.0, 0, 1.0]), 60.0) == "base tilted 180 deg from upright (limit 60 deg)"
