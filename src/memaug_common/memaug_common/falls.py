"""What counts as a fall: one definition for training terminations (which may also end an
episode on a knee down, memaug_train.env.EnvConfig) and run summaries."""

from __future__ import annotations

import numpy as np

from memaug_common.arrays import namespace, norm

#: Base height (world z of the trunk origin, m) below which the robot is down; the Go2's
#: nominal standing height is 0.30 m.
FALL_HEIGHT_M = 0.16
#: |g_xy| of the gravity direction in the base frame above which the robot is down (~45 deg).
FALL_TILT = 0.7


def fallen(base_height: np.ndarray, projected_gravity: np.ndarray) -> np.ndarray:
    """[N] bool: base lower than FALL_HEIGHT_M or tilted past FALL_TILT.

    base_height [N] m (world z); projected_gravity [N, 3], unit gravity in the base frame.
    """
    xp = namespace(projected_gravity)
    tilt = norm(projected_gravity[:, :2], axis=1)
    return (xp.asarray(base_height) < FALL_HEIGHT_M) | (tilt > FALL_TILT)
