"""The symmetry tables are right: mirroring a simulated trajectory equals simulating the mirror.

This is what makes memory augmentation sound: g = (g_o, g_a) maps a trajectory of one task
(e.g. a front-left knee failure) onto a trajectory the simulator would really produce for
the mirrored task (a front-right knee failure).
"""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
import torch

from memaug_common.description import load_robot_description
from memaug_policy.observation import ObservationLayout, projected_gravity
from memaug_sim.faults import FaultInjector, LimpFault
from memaug_sim.model import Actuation, ModelIndex, build_model
from memaug_train.ppo import Mirror

GO2 = load_robot_description("go2")
LAYOUT = ObservationLayout.for_joints(12)


def mirror_qpos(qpos: np.ndarray, index: ModelIndex) -> np.ndarray:
    out = qpos.copy()
    out[1] = -qpos[1]  # base y
    w, x, y, z = qpos[3:7]
    out[3:7] = [w, -x, y, -z]  # reflection through the x-z plane
    out[index.qpos] = GO2.mirror.joints(qpos[index.qpos])
    return out


def mirror_qvel(qvel: np.ndarray, index: ModelIndex) -> np.ndarray:
    out = qvel.copy()
    out[0:3] = GO2.mirror.vector(qvel[0:3])  # world linear velocity
    out[3:6] = GO2.mirror.pseudovector(qvel[3:6])  # body angular velocity
    out[index.qvel] = GO2.mirror.joints(qvel[index.qvel])
    return out


def simulate(qpos0, qvel0, targets, fault_joint: str | None) -> tuple[np.ndarray, np.ndarray]:
    model = build_model(GO2, Actuation.POSITION)
    index = ModelIndex.of(model, GO2)
    data = mujoco.MjData(model)
    data.qpos[:], data.qvel[:] = qpos0, qvel0
    if fault_joint:
        FaultInjector(model, index, GO2).apply(LimpFault(kind="limp", joint=fault_joint), data)
    qs, vs = [], []
    for target in targets:
        data.ctrl[index.actuators] = target
        for _ in range(GO2.substeps):
            mujoco.mj_step(model, data)
        qs.append(data.qpos.copy())
        vs.append(data.qvel.copy())
    return np.array(qs), np.array(vs)


def test_mirror_of_a_simulated_trajectory_is_the_simulation_of_the_mirror() -> None:
    model = build_model(GO2, Actuation.POSITION)
    index = ModelIndex.of(model, GO2)
    rng = np.random.default_rng(0)
    qpos0 = model.key_qpos[index.keyframe].copy()
    qpos0[index.qpos] += rng.uniform(-0.1, 0.1, 12)
    qvel0 = np.zeros(model.nv)
    qvel0[0:3] = [0.2, 0.1, 0.0]
    qvel0[3:6] = [0.1, -0.05, 0.2]
    targets = GO2.default_pose + 0.25 * np.cumsum(rng.normal(0, 0.2, (25, 12)), axis=0).clip(-1, 1)

    qs, vs = simulate(qpos0, qvel0, targets, "FL_calf_joint")
    mirrored_targets = GO2.mirror.joints(targets)
    mqs, mvs = simulate(mirror_qpos(qpos0, index), mirror_qvel(qvel0, index), mirrored_targets, "FR_calf_joint")

    expected_q = np.array([mirror_qpos(q, index) for q in qs])
    expected_v = np.array([mirror_qvel(v, index) for v in vs])
    np.testing.assert_allclose(mqs, expected_q, atol=2e-3)
    np.testing.assert_allclose(mvs, expected_v, atol=5e-2)
    # Observation-level check: g_o of the observations equals the observations of the mirror.
    gravity = projected_gravity(qs[:, 3:7])
    mirrored_gravity = projected_gravity(mqs[:, 3:7])
    np.testing.assert_allclose(mirrored_gravity, GO2.mirror.vector(gravity), atol=2e-3)


def test_g_applied_twice_is_the_identity_on_observations_and_actions() -> None:
    mirror = Mirror(LAYOUT, GO2.mirror, torch.device("cpu"))
    obs = torch.randn(8, 3, LAYOUT.dim)
    actions = torch.randn(8, 3, 12)
    assert torch.equal(mirror.obs(mirror.obs(obs)), obs)
    assert torch.equal(mirror.actions(mirror.actions(actions)), actions)


def test_the_training_mirror_equals_the_observation_layouts_definition() -> None:
    """PPO applies g as signed-permutation matrices; they must be the layout's own g_o and the
    description's joint mirror, term by term, exactly."""
    mirror = Mirror(LAYOUT, GO2.mirror, torch.device("cpu"))
    obs = torch.randn(64, LAYOUT.dim)
    np.testing.assert_array_equal(mirror.obs(obs).numpy(), LAYOUT.mirror(obs.numpy(), GO2.mirror))
    actions = torch.randn(64, 12)
    np.testing.assert_array_equal(mirror.actions(actions).numpy(), GO2.mirror.joints(actions.numpy()))


@pytest.mark.parametrize("joint", ["FL_hip_joint", "FL_thigh_joint", "RL_calf_joint"])
def test_mirror_maps_left_failures_onto_right_ones(joint: str) -> None:
    onehot = np.zeros(12)
    onehot[GO2.joint_index(joint)] = 1.0
    mirrored = GO2.joint_names[int(np.flatnonzero(GO2.mirror.joints(onehot))[0])]
    assert mirrored == joint.replace("L_", "R_")
