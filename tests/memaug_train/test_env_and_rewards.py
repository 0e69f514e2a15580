"""The training environment: determinism, faults at random times, reward terms by hand."""

from __future__ import annotations

import numpy as np
import pytest

from memaug_common.description import load_robot_description
from memaug_train import rewards
from memaug_train.env import EnvConfig, VecGo2Env
from memaug_train.tasks import LEFT_LEGS, TaskSampler, leg_joints

GO2 = load_robot_description("go2")


def make_env(seed: int, **config) -> VecGo2Env:
    sampler = TaskSampler(leg_joints(GO2, LEFT_LEGS), fault_window_steps=(2, 10))
    return VecGo2Env(GO2, EnvConfig(num_envs=8, threads=1, **config), sampler, seed=seed)


def rollout(env: VecGo2Env, steps: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    obs = [env.reset()]
    for _ in range(steps):
        obs.append(env.step(rng.normal(0, 0.5, (8, 12))).obs)
    return np.array(obs)


def test_same_seed_same_trajectories_different_seed_different() -> None:
    a, b, c = rollout(make_env(1), 30), rollout(make_env(1), 30), rollout(make_env(2), 30)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_training_tasks_fail_left_legs_only_and_start_mid_episode() -> None:
    env = make_env(3)
    env.reset()
    assert not env.fault_active.any()
    for _ in range(12):
        env.step(np.zeros((8, 12)))
    faulted = [t.fault for t in env.tasks if t.fault is not None]
    assert faulted and env.fault_active.any()
    assert all(f.joint.startswith(LEFT_LEGS) for f in faulted)  # type: ignore[union-attr]


def test_episode_truncates_at_the_time_limit() -> None:
    env = make_env(4, episode_steps=5)
    env.reset()
    results = [env.step(np.zeros((8, 12))) for _ in range(5)]
    assert not any(r.truncated.any() for r in results[:4])
    assert results[4].truncated.all() or (results[4].truncated | results[4].terminated).all()
    assert (env.step_count == 0).all()  # reset after the limit


def batch(**overrides) -> rewards.RobotBatch:
    values = {
        "command": np.array([[0.5, 0.0, 0.0]]),
        "linear_velocity": np.array([[0.5, 0.0, 0.0]]),
        "angular_velocity": np.zeros((1, 3)),
        "projected_gravity": np.array([[0.0, 0.0, -1.0]]),
        "base_height": np.array([0.30]),
        "joint_velocity": np.zeros((1, 12)),
        "torque": np.zeros((1, 12)),
        "action": np.zeros((1, 12)),
        "last_action": np.zeros((1, 12)),
        "feet_height": np.zeros((1, 4)),
        "feet_air_time": np.zeros((1, 4)),
    }
    values.update(overrides)
    return rewards.RobotBatch(**values)


class TestRewardTerms:
    def test_perfect_tracking_scores_one_and_error_decays(self) -> None:
        assert rewards.tracking_linear_velocity(batch())[0] == pytest.approx(1.0)
        slow = batch(linear_velocity=np.array([[0.0, 0.0, 0.0]]))
        assert rewards.tracking_linear_velocity(slow)[0] == pytest.approx(np.exp(-1.0))

    def test_penalties_on_hand_made_states(self) -> None:
        tilted = batch(projected_gravity=np.array([[0.6, 0.0, -0.8]]))
        assert rewards.tilt(tilted)[0] == pytest.approx(0.36)
        bouncing = batch(linear_velocity=np.array([[0.5, 0.0, 0.3]]))
        assert rewards.vertical_velocity(bouncing)[0] == pytest.approx(0.09)
        jerky = batch(action=np.ones((1, 12)))
        assert rewards.action_rate(jerky)[0] == pytest.approx(12.0)

    def test_air_time_rewards_long_steps_only_when_moving(self) -> None:
        long_step = np.array([[0.4, 0.0, 0.0, 0.0]])
        assert rewards.feet_air_time(batch(feet_air_time=long_step))[0] == pytest.approx(0.2)
        short_steps = np.array([[0.05, 0.05, 0.0, 0.0]])
        assert rewards.feet_air_time(batch(feet_air_time=short_steps))[0] == 0.0
        still = batch(command=np.zeros((1, 3)), feet_air_time=long_step)
        assert rewards.feet_air_time(still)[0] == 0.0

    def test_foot_clearance_counts_lifted_feet_up_to_5_cm_when_moving(self) -> None:
        lifted = batch(feet_height=np.array([[0.02, 0.10, 0.0, 0.0]]))
        assert rewards.foot_clearance(lifted)[0] == pytest.approx(0.07)
        assert rewards.foot_clearance(batch(command=np.zeros((1, 3)), feet_height=lifted.feet_height))[0] == 0.0

    def test_total_is_clipped_at_zero_so_falling_early_never_pays(self) -> None:
        terrible = batch(projected_gravity=np.array([[0.9, 0.0, -0.43]]), linear_velocity=np.array([[-2, 0, 1.0]]))
        total, terms = rewards.total_reward(terrible, 0.02)
        assert total[0] == 0.0
        assert terms["tilt"] < 0


def test_a_robot_holding_its_default_pose_never_falls() -> None:
    """Guards the solver settings: rollout starts each control step without a warm start, and
    too few iterations once made the contact solution kick standing robots over."""
    env = VecGo2Env(GO2, EnvConfig(num_envs=16, threads=1), TaskSampler((), fault_probability=0.0), seed=5)
    env.reset()
    rng = np.random.default_rng(5)
    falls = 0
    for _ in range(200):
        falls += int(env.step(rng.normal(0.0, 0.2, (16, 12))).terminated.sum())
    assert falls == 0
