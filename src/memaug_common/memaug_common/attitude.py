"""Attitude protection: how far the base is from upright, one rule for the policy node and the
bridge (rl_sar's and legged_control's protection, walk-these-ways' orientation stop).

A base tilted past the limit (default 60 degrees), or lying on its side or back, is not a
robot the policy can walk: both stop commanding and damp.
"""

from __future__ import annotations

import numpy as np

#: Default tilt limit, degrees from upright.
MAX_TILT_DEG = 60.0


def tilt_deg(projected_gravity: np.ndarray) -> float:
    """Angle between the base's z axis and the vertical, degrees, from the unit gravity
    direction in the base frame ([0, 0, -1] upright; 180 on its back)."""
    return float(np.degrees(np.arccos(np.clip(-projected_gravity[2], -1.0, 1.0))))


def attitude_problem(projected_gravity: np.ndarray, max_tilt_deg: float) -> str | None:
    """Why the attitude is unsafe, or None."""
    tilt = tilt_deg(projected_gravity)
    if tilt > max_tilt_deg:
        return f"base tilted {tilt:.0f} deg from upright (limit {max_tilt_deg:g} deg)"
    return None
