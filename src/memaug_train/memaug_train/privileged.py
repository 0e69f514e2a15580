"""What the critic may know and the actor may not: ground truth from the simulator.

An asymmetric critic (the actor sees only what the robot measures, memaug_policy.observation)
reads these too, so its value estimate knows the robot's true velocity, the dynamics it was
dealt and the fault it has, and the actor's advantage follows velocity tracking closely
instead of through the memory's guess. Every term has a mirror kind, so g_o covers them.
"""

from __future__ import annotations

import numpy as np

from memaug_policy.observation import ObservationLayout, ObservationTerm

#: Terms in order. Sizes of 0 are one per joint; 4 is one per leg (feet order). Scales bring
#: each term to order one.
PRIVILEGED_TERMS: tuple[ObservationTerm, ...] = (
    ObservationTerm("base_linear_velocity", 3, 2.0, "vector", "m/s, base frame, ground truth"),
    ObservationTerm("base_height", 1, 5.0, "scalar", "m above the ground minus the nominal height"),
    ObservationTerm("feet_contact", 4, 1.0, "legs", "1 where a foot touches the ground"),
    ObservationTerm("knee_contact", 4, 1.0, "legs", "1 where a knee touches the ground"),
    ObservationTerm("motor_torque_left", 0, 1.0, "joint_magnitudes", "fraction of torque the fault leaves"),
    ObservationTerm("joint_locked", 0, 1.0, "joint_magnitudes", "1 where the joint is locked"),
    ObservationTerm(
        "dynamics",
        12,
        (0.5, 3.0, 0.5, 2.0, 2.0, 2.0, 1.0, 0.5, 5.0, 10.0, 25.0, 20.0),
        "scalar",
        "joint damping, friction loss, armature x, kp x, kd x, strength x, ground friction, "
        "base mass added incl. payload (kg), link mass x, contact time constant (s), action latency (s), "
        "rough-ground bump height (m)",
    ),
    ObservationTerm("base_com_offset", 3, 10.0, "vector", "m, base frame"),
)


def privileged_layout(num_joints: int) -> ObservationLayout:
    return ObservationLayout.for_joints(num_joints, PRIVILEGED_TERMS)


def velocity_scale(num_joints: int) -> np.ndarray:
    """[3] the scale of the true base velocity (vx, vy, vz) in the privileged observation, which
    a velocity estimate shares: estimate / scale is m/s."""
    layout = privileged_layout(num_joints)
    return layout.scale[layout.slices()["base_linear_velocity"]].copy()
