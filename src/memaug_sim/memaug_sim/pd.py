"""Joint-space PD law with feed-forward, saturated at the torque limits.

All arrays are [num_joints] in description order; positions rad, velocities rad/s,
torques N m, kp N m/rad, kd N m s/rad.
"""

from __future__ import annotations

import numpy as np


def pd_torque(
    q: np.ndarray,
    dq: np.ndarray,
    q_target: np.ndarray,
    dq_target: np.ndarray,
    tau_ff: np.ndarray,
    kp: np.ndarray,
    kd: np.ndarray,
    torque_limit: np.ndarray,
) -> np.ndarray:
    """tau = clip(kp (q* - q) + kd (dq* - dq) + tau_ff, -limit, limit)."""
    tau = kp * (q_target - q) + kd * (dq_target - dq) + tau_ff
    return np.clip(tau, -torque_limit, torque_limit)


def damping_torque(dq: np.ndarray, kd: float, torque_limit: np.ndarray) -> np.ndarray:
    """Passive mode: no stiffness, only damping: tau = clip(-kd dq)."""
    return np.clip(-kd * dq, -torque_limit, torque_limit)
