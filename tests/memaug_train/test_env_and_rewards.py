"""The training environment: determinism, faults at random times, reward terms by hand."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from memaug_common.description import load_robot_description
from memaug_sim.faults import LimpFault
from memaug_train import rewards
from memaug_train.env import STATE_SPEC, EnvConfig, VecGo2Env, canonical_feet_order
from memaug_train.methods import METHODS
from memaug_train.tasks import (
    FRONT_KNEE_FAILURE_WEIGHT,
    FRONT_LEG_FAILURE_WEIGHT,
    LEFT_LEGS,
    Task,
    TaskSampler,
    failure_weights,
    leg_joints,
)

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
        "feet_air_time": np.zeros((1, 4)),
        "feet_contact": np.ones((1, 4), dtype=bool),
        "knee_height": np.full((1, 4), 0.2),
        "joint_speed_fraction": np.full((1, 12), 0.5),
        "joint_range_fraction": np.zeros((1, 12)),
        "target_beyond_range": np.zeros((1, 12)),
    }
    values.update(overrides)
    return rewards.RobotBatch(**values)


class TestRewardTerms:
    def test_perfect_tracking_scores_one_and_error_decays(self) -> None:
        assert rewards.tracking_linear_velocity(batch())[0] == pytest.approx(1.0)
        slow = batch(linear_velocity=np.array([[0.0, 0.0, 0.0]]))
        assert rewards.tracking_linear_velocity(slow)[0] == pytest.approx(np.exp(-0.25 / rewards.TRACKING_WIDTH))

    def test_progress_is_a_tent_on_the_speed_along_the_command(self) -> None:
        def progress(command: list[float], velocity: list[float]) -> float:
            return float(
                rewards.velocity_progress(batch(command=np.array([command]), linear_velocity=np.array([velocity])))[0]
            )

        assert progress([0.5, 0, 0], [0.25, 0, 0]) == pytest.approx(0.5)
        assert progress([0.5, 0, 0], [0.5, 0, 0]) == pytest.approx(1.0)
        assert progress([0.5, 0, 0], [0.75, 0, 0]) == pytest.approx(0.5)  # symmetric: running fast costs
        assert progress([0.5, 0, 0], [1.2, 0, 0]) == 0.0
        assert progress([0.5, 0, 0], [-0.2, 0, 0]) == 0.0  # backwards does not cost here either
        assert progress([0.0, 0.3, 0], [0.3, 0.15, 0]) == pytest.approx(0.5)  # lateral command, sideways part
        assert progress([0.0, 0.0, 0.6], [0.3, 0, 0]) == 0.0  # turning on the spot: no planar command

    def test_penalties_on_hand_made_states(self) -> None:
        tilted = batch(projected_gravity=np.array([[0.6, 0.0, -0.8]]))
        assert rewards.tilt(tilted)[0] == pytest.approx(0.36)
        bouncing = batch(linear_velocity=np.array([[0.5, 0.0, 0.3]]))
        assert rewards.vertical_velocity(bouncing)[0] == pytest.approx(0.09)
        jerky = batch(action=np.ones((1, 12)))
        assert rewards.action_rate(jerky)[0] == pytest.approx(12.0)

    def test_joints_cost_only_beyond_the_soft_part_of_their_range_on_either_side(self) -> None:
        fraction = np.zeros((1, 12))
        fraction[0, :3] = [0.85, -0.95, 1.0]  # inside, 0.05 past the soft edge below, at the stop
        cost = rewards.joint_position_near_limit(batch(joint_range_fraction=fraction))[0]
        assert cost == pytest.approx(0.05 + 0.1)
        assert rewards.joint_position_near_limit(batch())[0] == 0.0

    def test_air_time_rewards_real_steps_only_when_moving(self) -> None:
        step = np.array([[0.3, 0.0, 0.0, 0.0]])
        assert rewards.feet_air_time(batch(feet_air_time=step))[0] == pytest.approx(0.2)
        hop = np.array([[2.0, 0.0, 0.0, 0.0]])
        assert rewards.feet_air_time(batch(feet_air_time=hop))[0] == pytest.approx(0.4)  # capped at 0.5 s
        shuffles = np.array([[0.05, 0.05, 0.0, 0.0]])
        assert rewards.feet_air_time(batch(feet_air_time=shuffles))[0] == 0.0
        still = batch(command=np.zeros((1, 3)), feet_air_time=step)
        assert rewards.feet_air_time(still)[0] == 0.0

    @pytest.mark.parametrize(
        ("contacts", "expected"),
        [
            ((1, 0, 0, 1), 1.0),  # FR + RL on the ground: one diagonal phase
            ((0, 1, 1, 0), 1.0),  # FL + RR: the other
            ((1, 1, 1, 1), 0.0),  # standing
            ((1, 1, 0, 0), 0.0),  # bound (front pair together)
            ((1, 0, 1, 0), 0.0),  # pace (right pair together)
            ((0, 1, 1, 1), 0.0),  # three legs
            ((0, 0, 0, 0), 0.0),  # flight
        ],
    )
    def test_trot_contact_pays_diagonal_support_only(self, contacts: tuple[int, ...], expected: float) -> None:
        feet = np.array([contacts], dtype=bool)
        assert rewards.trot_contact(batch(feet_contact=feet))[0] == expected
        assert rewards.trot_contact(batch(command=np.zeros((1, 3)), feet_contact=feet))[0] == 0.0

    def test_total_is_clipped_at_zero_so_falling_early_never_pays(self) -> None:
        terrible = batch(projected_gravity=np.array([[0.9, 0.0, -0.43]]), linear_velocity=np.array([[-2, 0, 1.0]]))
        total, terms = rewards.total_reward(terrible, 0.02)
        assert total[0] == 0.0
        assert terms["tilt"] < 0

    def test_knees_on_the_floor_cost_even_on_a_step_that_earns_nothing(self) -> None:
        kneeling = np.array([[0.01, 0.01, 0.2, 0.2]])
        tipped = np.array([[0.9, 0.0, -0.43]])
        on_knees = batch(projected_gravity=tipped, linear_velocity=np.array([[-2, 0, 1.0]]), knee_height=kneeling)
        total, terms = rewards.total_reward(on_knees, 0.02)
        scale = rewards.describe_rewards()["knee_contact_after_clip"]
        assert scale < 0
        assert total[0] == pytest.approx(2 * scale * 0.02)
        assert terms["knee_contact"] == pytest.approx(total[0])
        walking, _ = rewards.total_reward(batch(knee_height=kneeling), 0.02)
        upright, _ = rewards.total_reward(batch(), 0.02)
        assert walking[0] == pytest.approx(upright[0] + 2 * scale * 0.02)


def test_knees_on_the_floor_are_counted() -> None:
    assert rewards.knee_contact(batch())[0] == 0.0
    assert rewards.knee_contact(batch(knee_height=np.array([[0.018, 0.2, 0.029, 0.031]])))[0] == 2.0


def kneel_for(pose: np.ndarray, steps: int = 100, knee_down_ends_episode: bool = True) -> tuple[int | None, float]:
    """One robot driven to ``pose`` for up to ``steps`` control steps: the step its episode ended
    at (None if it did not) and the knee_contact reward (per second) of the last step."""
    config = EnvConfig(num_envs=1, threads=1, knee_down_ends_episode=knee_down_ends_episode)
    env = VecGo2Env(GO2, config, TaskSampler((), fault_probability=0.0), seed=2)
    env.reset()
    action = ((pose - GO2.default_pose) / env.config.action_scale)[None]
    for step in range(steps):
        result = env.step(action)
        if result.terminated.any():
            return step, result.info["knee_contact"] / env.dt
    return None, result.info["knee_contact"] / env.dt


def test_a_knee_on_the_floor_ends_the_episode_and_pays_for_itself() -> None:
    """The pose the policy once took after a limp front knee: front hips turned in, knees folded
    flat. Kneeling ends the episode as a fall does; it is not a fall (without the rule the robot
    kneels on, paying for its knees); a robot on its default pose never kneels."""
    kneel = np.array([1.05, 0.7, -2.7, -1.05, 0.74, -2.6, 0.11, 0.45, -2.5, -0.13, 0.36, -2.45])
    assert kneel_for(GO2.default_pose) == (None, 0.0)
    ended, cost = kneel_for(kneel)
    assert ended is not None and cost <= rewards.describe_rewards()["knee_contact_after_clip"]  # at least one knee down
    assert kneel_for(kneel, knee_down_ends_episode=False) == (None, cost)


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


def test_feet_reach_the_rewards_in_canonical_leg_order() -> None:
    order = canonical_feet_order(["RL_foot", "FR_foot", "RR_foot", "FL_foot"])
    assert [["RL_foot", "FR_foot", "RR_foot", "FL_foot"][i] for i in order] == [
        "FR_foot",
        "FL_foot",
        "RR_foot",
        "RL_foot",
    ]
    with pytest.raises(ValueError, match="one per leg"):
        canonical_feet_order(["FR_foot", "FL_foot", "RR_foot"])


def test_training_physics_period_must_divide_the_control_period() -> None:
    with pytest.raises(ValueError, match="must divide the control period"):
        VecGo2Env(GO2, EnvConfig(num_envs=1, threads=1, physics_period_s=0.003), TaskSampler(()))
    env = VecGo2Env(GO2, EnvConfig(num_envs=1, threads=1, physics_period_s=0.004), TaskSampler(()))
    assert env.substeps == 5 and env.models[0].opt.timestep == pytest.approx(0.004)


def test_one_env_step_is_each_robots_own_model_stepped_by_mj_step() -> None:
    """The batched C rollout (its checks skipped, two threads, chunks of one robot) computes
    exactly what mj_step computes on each environment's own model: a limp knee in one
    environment stays in that environment."""
    env = VecGo2Env(GO2, EnvConfig(num_envs=3, threads=2), TaskSampler(()), seed=5)
    env.reset()
    env.set_task(1, Task(LimpFault(kind="limp", joint="FR_calf_joint"), fault_step=0, payload_kg=0.0))
    start = env.state.copy()
    action = np.random.default_rng(5).normal(0.0, 0.5, (3, 12))
    q_start = env._split(start)[0][:, env.index.qpos]
    targets = env.limits.apply(env.actions.targets(action), q_start)
    env.step(action)
    assert env.fault_active[1] and not env.fault_active[[0, 2]].any()
    data = mujoco.MjData(env.models[0])
    for i in range(3):
        mujoco.mj_setState(env.models[i], data, start[i], STATE_SPEC)
        data.ctrl[:] = targets[i]
        for _ in range(env.substeps):
            mujoco.mj_step(env.models[i], data)
        expected = np.zeros_like(start[i])
        mujoco.mj_getState(env.models[i], data, expected, STATE_SPEC)
        np.testing.assert_allclose(env.state[i], expected, rtol=0, atol=1e-9, err_msg=f"environment {i}")
    assert not np.allclose(env.state[0], env.state[1])


def test_failure_kinds_follow_their_weights_and_only_listed_joints_fail() -> None:
    sampler = TaskSampler(leg_joints(GO2, LEFT_LEGS))
    rng = np.random.default_rng(0)
    faults = [t.fault for t in (sampler.sample(rng) for _ in range(4000)) if t.fault is not None]
    assert len(faults) == pytest.approx(0.8 * 4000, rel=0.05)
    kinds = [f.kind for f in faults]
    limp, locked, weakened = np.asarray(sampler.kind_weights) / sum(sampler.kind_weights)
    assert kinds.count("limp") / len(kinds) == pytest.approx(limp, abs=0.03)
    assert kinds.count("locked") / len(kinds) == pytest.approx(locked, abs=0.03)
    # Limp, and weakened to (nearly) nothing, the failures that must still be walked through.
    assert limp + weakened > 0.8
    factors = [f.factor for f in faults if f.kind == "weakened"]  # type: ignore[union-attr]
    assert min(factors) < 0.05 and max(factors) > 0.75
    assert {f.joint for f in faults} == set(leg_joints(GO2, LEFT_LEGS))  # type: ignore[union-attr]


def test_front_leg_joints_fail_more_often_in_every_method() -> None:
    joints = leg_joints(GO2, LEFT_LEGS)
    weights = failure_weights(joints)
    front = {"FL_hip_joint": FRONT_LEG_FAILURE_WEIGHT, "FL_thigh_joint": FRONT_LEG_FAILURE_WEIGHT}
    front["FL_calf_joint"] = FRONT_KNEE_FAILURE_WEIGHT
    assert weights == tuple(front.get(j, 1.0) for j in joints)
    sampler = METHODS["memaug"].sampler(GO2)
    rng = np.random.default_rng(1)
    failed = [t.fault.joint for t in (sampler.sample(rng) for _ in range(6000)) if t.fault is not None]
    front_to_rear = sum(front.values()) / 3.0
    assert sum(j.startswith("FL") for j in failed) / sum(j.startswith("RL") for j in failed) == pytest.approx(
        front_to_rear, rel=0.15
    )
    assert failed.count("FL_calf_joint") > failed.count("FL_thigh_joint") > failed.count("RL_calf_joint")
    with pytest.raises(ValueError, match="joint_weights has 2 entries for 6 joints"):
        TaskSampler(joints, joint_weights=(1.0, 2.0))


def test_actions_past_the_joint_range_cost_what_they_overshoot_in_the_env() -> None:
    """The action map clips at the range, so only this term sees an action beyond it."""
    env = make_env(4)
    env.reset()
    assert float(env.step(np.zeros((8, 12))).info["targets_beyond_range"]) == 0.0
    calf = GO2.joint_names.index("FR_calf_joint")
    action = np.zeros((8, 12))
    action[:, calf] = 4.0  # asks for default + 1 rad: past the calf's upper stop
    overshoot = GO2.default_pose[calf] + 4.0 * env.actions.scale - GO2.upper_limits[calf]
    assert overshoot > 0.3
    info = env.step(action).info
    scale = rewards.describe_rewards()["targets_beyond_range"]
    assert scale < 0
    assert float(info["targets_beyond_range"]) == pytest.approx(scale * overshoot * env.dt)
