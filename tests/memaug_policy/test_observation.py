"""Observation layout, frames and the mirror g_o; the action map."""

from __future__ import annotations

import numpy as np

from memaug_common.description import load_robot_description
from memaug_policy.actions import ACTION_CLIP, ActionMap
from memaug_policy.observation import ObservationLayout, projected_gravity, rotate_to_base

GO2 = load_robot_description("go2")
LAYOUT = ObservationLayout.for_joints(12)


def test_layout_order_sizes_and_scales() -> None:
    assert [t["name"] for t in LAYOUT.describe()] == [
        "base_angular_velocity",
        "projected_gravity",
        "velocity_command",
        "joint_position",
        "joint_velocity",
        "last_action",
    ]
    assert LAYOUT.sizes == (3, 3, 3, 12, 12, 12) and LAYOUT.dim == 45
    raw = {
        "base_angular_velocity": np.array([1.0, 2.0, 3.0]),
        "projected_gravity": np.array([0.0, 0.0, -1.0]),
        "velocity_command": np.array([0.5, 0.1, 1.0]),
        "joint_position": np.arange(12.0),
        "joint_velocity": np.full(12, 10.0),
        "last_action": np.full(12, -1.0),
    }
    obs = LAYOUT.build(raw)
    assert obs.dtype == np.float32
    np.testing.assert_allclose(obs[:9], [0.25, 0.5, 0.75, 0, 0, -1, 1.0, 0.2, 0.25])
    np.testing.assert_allclose(obs[9:21], np.arange(12.0))
    np.testing.assert_allclose(obs[21:33], 0.5)


def test_projected_gravity_and_rotation_agree_for_a_pitched_base() -> None:
    pitch = 0.4
    quat = np.array([np.cos(pitch / 2), 0.0, np.sin(pitch / 2), 0.0])  # nose down about +y
    g = projected_gravity(quat)
    np.testing.assert_allclose(g, [np.sin(pitch), 0.0, -np.cos(pitch)], atol=1e-12)
    np.testing.assert_allclose(rotate_to_base(quat, np.array([0.0, 0.0, -1.0])), g, atol=1e-12)
    np.testing.assert_allclose(projected_gravity(np.array([1.0, 0, 0, 0])), [0, 0, -1])


def test_mirrored_observation_twice_is_identity_and_flips_lateral_terms() -> None:
    obs = np.random.default_rng(0).normal(size=(4, 45)).astype(np.float32)
    mirrored = LAYOUT.mirror(obs, GO2.mirror)
    np.testing.assert_array_equal(LAYOUT.mirror(mirrored, GO2.mirror), obs)
    np.testing.assert_array_equal(mirrored[:, 0], -obs[:, 0])  # roll rate flips
    np.testing.assert_array_equal(mirrored[:, 1], obs[:, 1])  # pitch rate keeps
    np.testing.assert_array_equal(mirrored[:, 4], -obs[:, 4])  # gravity y flips
    np.testing.assert_array_equal(mirrored[:, 7:9], -obs[:, 7:9])  # vy and yaw-rate commands flip


def test_action_map_scales_around_default_and_clips_to_limits() -> None:
    actions = ActionMap.for_robot(GO2, 0.25)
    np.testing.assert_allclose(actions.targets(np.zeros(12)), GO2.default_pose)
    np.testing.assert_allclose(actions.targets(np.full(12, 0.4)), np.minimum(GO2.default_pose + 0.1, GO2.upper_limits))
    runaway = np.minimum(GO2.default_pose + 0.25 * ACTION_CLIP, GO2.upper_limits)
    np.testing.assert_allclose(actions.targets(np.full(12, 1e6)), runaway)
