"""Nuisance randomization and the asymmetric critic: each term does what it says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from memaug_common.description import RandomizationRanges, load_robot_description
from memaug_sim.commands import JointCommand
from memaug_sim.dynamics import NOMINAL
from memaug_sim.simulator import Simulator
from memaug_train import randomization as rnd
from memaug_train.env import EnvConfig, VecGo2Env
from memaug_train.networks import NetConfig
from memaug_train.ppo import Mirror, PpoConfig, RecurrentPpo
from memaug_train.tasks import LEFT_LEGS, TaskSampler, leg_joints, leg_of

GO2 = load_robot_description("go2")
RANGES = GO2.randomization
NO_FAULTS = TaskSampler(joints=(), fault_probability=0.0, payload_kg=(0.0, 0.0))
LEGS = [leg_of(name) for name in GO2.joint_names]


def make_env(seed: int = 0, n: int = 8, sampler: TaskSampler = NO_FAULTS, **config) -> VecGo2Env:
    config.setdefault("randomization", RANGES)
    return VecGo2Env(GO2, EnvConfig(num_envs=n, threads=1, **config), sampler, seed=seed)


def test_latency_holds_the_previous_target_for_the_delay_then_applies_the_new_one() -> None:
    previous, new = np.zeros((3, 2)), np.ones((3, 2))
    controls = rnd.delayed_controls(new, previous, np.array([0, 2, 4]), substeps=4)
    assert controls.shape == (3, 4, 2)
    np.testing.assert_array_equal(controls[:, :, 0], [[1, 1, 1, 1], [0, 0, 1, 1], [0, 0, 0, 0]])


def test_latency_steps_cover_the_range_in_whole_physics_steps() -> None:
    steps = rnd.latency_steps(RANGES.action_latency_s, 0.005, 2000, np.random.default_rng(0))
    assert set(steps.tolist()) == {0, 1, 2, 3, 4}  # 0-20 ms at 5 ms


def test_sampled_dynamics_stay_inside_the_description_ranges() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        d = rnd.sample_dynamics(RANGES, rng, LEGS)
        assert RANGES.joint_damping[0] <= d.joint_damping <= RANGES.joint_damping[1]  # type: ignore[operator]
        assert RANGES.kp_scale[0] <= d.kp_scale <= RANGES.kp_scale[1]
        assert RANGES.ground_friction[0] <= d.ground_friction <= RANGES.ground_friction[1]  # type: ignore[operator]
        assert all(abs(c) <= RANGES.base_com_offset_m[1] for c in d.base_com_offset_m)


def test_contact_model_terms_go_to_their_shares_of_robots_inside_their_ranges() -> None:
    rng = np.random.default_rng(0)
    draws = [rnd.sample_dynamics(RANGES, rng, LEGS) for _ in range(2000)]
    rich = [d for d in draws if d.contact_dimension == 6]
    # The sinking heavy-joint robots have every term; the others draw each share.
    assert RANGES.heavy_joints_sink
    heavy = RANGES.heavy_joint_share

    def share(of_the_others: float) -> float:
        return heavy + (1 - heavy) * of_the_others

    assert len(rich) / len(draws) == pytest.approx(share(RANGES.rich_contact_share), abs=0.04)
    assert all(RANGES.torsional_friction[0] <= d.torsional_friction <= RANGES.torsional_friction[1] for d in rich)  # type: ignore[operator]
    elliptic = share(RANGES.rich_contact_share * RANGES.elliptic_cone_share)
    assert np.mean([d.elliptic_cone is True for d in draws]) == pytest.approx(elliptic, abs=0.04)
    assert not any(d.elliptic_cone for d in draws if d.contact_dimension is None)  # chatters with condim 3
    soft = [d.foot_contact_time_constant_s for d in draws if d.foot_contact_time_constant_s is not None]
    assert len(soft) / len(draws) == pytest.approx(share(RANGES.soft_feet_share), abs=0.04)
    assert RANGES.impratio is not None
    assert all(RANGES.impratio[0] <= d.impratio <= RANGES.impratio[1] for d in draws)  # type: ignore[operator]


def test_no_robot_drawn_from_the_ranges_chatters_standing_still() -> None:
    """Contact-model combinations that MuJoCo cannot hold still (joints vibrating while the
    robot stands) would teach the policy a simulator artifact."""
    rng = np.random.default_rng(3)
    zeros = np.zeros(GO2.num_joints)
    for _ in range(12):
        sim = Simulator(GO2, command_timeout_s=10.0, dynamics=rnd.sample_dynamics(RANGES, rng, LEGS))
        peak = 0.0
        for step in range(1000):
            sim.submit_command(JointCommand(GO2.default_pose.copy(), zeros, zeros))
            sim.step()
            if step > 250:  # settled
                peak = max(peak, float(np.max(np.abs(sim.data.qvel[sim.index.qvel]) / GO2.velocity_limits)))
        assert peak < 0.1, sim.dynamics


def test_asymmetry_is_drawn_per_leg_and_offsets_per_joint() -> None:
    d = rnd.sample_dynamics(RANGES, np.random.default_rng(1), LEGS)
    assert d.joint_strength_scale is not None and d.joint_link_mass_scale is not None and d.joint_offset_rad is not None
    for leg in set(LEGS):
        joints = [i for i, name in enumerate(LEGS) if name == leg]
        assert len({d.joint_strength_scale[i] for i in joints}) == 1  # one motor batch per leg
        assert len({d.joint_link_mass_scale[i] for i in joints}) == 1
    assert len(set(d.joint_strength_scale)) == 4  # the legs differ: the robot is not mirror-symmetric
    assert max(abs(v) for v in d.joint_offset_rad) <= RANGES.joint_offset_rad
    assert len(set(d.joint_offset_rad)) == 12


def test_terms_that_are_off_draw_nothing() -> None:
    off = rnd.without_contact_model_and_asymmetry(RANGES)
    d = rnd.sample_dynamics(off, np.random.default_rng(2), LEGS)
    assert (d.contact_dimension, d.elliptic_cone, d.impratio, d.foot_contact_time_constant_s) == (None,) * 4
    assert (d.joint_strength_scale, d.joint_link_mass_scale, d.joint_offset_rad) == (None,) * 3
    # the random stream is the one the description without these terms gave: the next draw agrees
    rng_a, rng_b = np.random.default_rng(2), np.random.default_rng(2)
    rnd.sample_dynamics(off, rng_a, LEGS)
    rnd.sample_dynamics(off.model_copy(update={"torsional_friction": (0.0, 0.5)}), rng_b, LEGS)
    assert rng_a.random() == rng_b.random()


def test_encoder_offsets_shift_what_the_policy_sees_and_where_the_motors_hold() -> None:
    env = make_env(n=2, randomization=None, initial_joint_noise=0.0)
    env.reset()
    offset = np.linspace(-0.02, 0.02, 12)
    env.encoder_offset[1] = offset
    env.state[1] = env._sensed[1] = env.state[0]  # the same robot twice, but for its encoders
    obs = env.observe()
    q_term = env.layout.slices()["joint_position"]
    np.testing.assert_allclose(obs[1, q_term] - obs[0, q_term], offset * env.layout.scale[q_term], atol=1e-6)
    # Zero actions: each motor holds its default angle as its own encoder reads it, which is
    # the true angle default - offset, what the position actuators (true angles) are given.
    env.step(np.zeros((2, 12)))
    np.testing.assert_allclose(env._control[1, -1] - env._control[0, -1], -offset, atol=1e-9)


def test_log_uniform_ground_friction_puts_as_many_robots_on_each_octave() -> None:
    ranges = RANGES.model_copy(update={"ground_friction": (0.1, 1.6), "ground_friction_log_uniform": True})
    rng = np.random.default_rng(0)
    friction = np.array([rnd.sample_dynamics(ranges, rng, LEGS).ground_friction for _ in range(4000)])
    assert friction.min() >= 0.1 and friction.max() <= 1.6
    octaves = np.histogram(friction, bins=[0.1, 0.2, 0.4, 0.8, 1.6])[0] / len(friction)
    np.testing.assert_allclose(octaves, 0.25, atol=0.03)  # a uniform draw puts 6 % on 0.1-0.2


def test_log_uniform_ground_friction_needs_a_positive_low() -> None:
    with pytest.raises(ValueError, match="ground_friction: a log-uniform draw needs a positive low"):
        RandomizationRanges.model_validate(
            RANGES.model_dump() | {"ground_friction": (0.0, 1.0), "ground_friction_log_uniform": True}
        )


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0])
def test_joint_friction_loss_goes_to_its_share_of_robots(share: float) -> None:
    ranges = RANGES.model_copy(update={"joint_friction_share": share, "heavy_joint_share": 0.0})
    rng = np.random.default_rng(0)
    friction = np.array([rnd.sample_dynamics(ranges, rng, LEGS).joint_friction_loss for _ in range(1000)])
    assert np.mean(friction > 0) == pytest.approx(share, abs=0.05)
    assert friction.max() <= RANGES.joint_friction_loss[1]


def test_heavy_joints_go_to_their_share_of_robots_all_three_in_the_top_quarter() -> None:
    """Damping, friction loss and armature near their tops at once, where independent draws put
    1 robot in 400 or fewer: the suite's heavy points. The other robots keep the whole ranges."""
    ranges = RANGES.model_copy(update={"heavy_joint_share": 0.3, "joint_friction_share": 0.0})
    rng = np.random.default_rng(0)
    drawn = [rnd.sample_dynamics(ranges, rng, LEGS) for _ in range(2000)]
    friction = np.array([d.joint_friction_loss for d in drawn])
    heavy = friction > 0  # with joint_friction_share 0, only the heavy robots have friction
    assert heavy.mean() == pytest.approx(0.3, abs=0.04)
    for values, (low, high) in (
        (friction, RANGES.joint_friction_loss),
        (np.array([d.joint_damping for d in drawn]), RANGES.joint_damping),
        (np.array([d.armature_scale for d in drawn]), RANGES.armature_scale),
    ):
        top = low + 0.75 * (high - low)
        assert values[heavy].min() >= top and values[heavy].max() <= high
        if values is not friction:
            assert values[~heavy].min() < low + 0.05 * (high - low)


def test_observation_noise_touches_only_what_sensors_measure() -> None:
    raw = {name: np.zeros((1000, 12)) for name in ("joint_position", "joint_velocity", "last_action")}
    raw |= {name: np.zeros((1000, 3)) for name in ("base_angular_velocity", "projected_gravity", "velocity_command")}
    noisy = rnd.observation_noise(RANGES, raw, np.random.default_rng(0))
    assert np.abs(noisy["joint_velocity"]).max() == pytest.approx(RANGES.observation_noise.joint_velocity, rel=0.01)
    assert np.abs(noisy["base_angular_velocity"]).max() <= RANGES.observation_noise.gyro
    np.testing.assert_array_equal(noisy["velocity_command"], 0.0)
    np.testing.assert_array_equal(noisy["last_action"], 0.0)


def test_each_robot_gets_its_own_dynamics_in_its_own_model() -> None:
    env = make_env(n=4)
    env.reset()
    damping = [float(m.dof_damping[env.index.qvel[0]]) for m in env.models]
    assert len(set(damping)) == 4
    for model, dynamics in zip(env.models, env.dynamics, strict=True):
        assert model.actuator_gainprm[env.index.actuators[0], 0] == pytest.approx(GO2.kp[0] * dynamics.kp_scale)
    nominal = make_env(n=4, randomization=None)
    nominal.reset()
    assert all(d == NOMINAL for d in nominal.dynamics)


def test_same_seed_same_randomized_trajectories_different_seed_different() -> None:
    def run(seed: int) -> np.ndarray:
        env = make_env(seed)
        env.reset()
        actions = np.random.default_rng(7).normal(0, 0.5, (20, 8, 12))
        return np.stack([env.step(a).obs for a in actions])

    np.testing.assert_array_equal(run(3), run(3))
    assert not np.allclose(run(3), run(4))


def test_a_push_changes_the_base_velocity_by_at_most_the_kick() -> None:
    env = make_env(n=16)
    env.reset()
    before = env.state[:, env._qvel0 : env._qvel0 + 2].copy()
    env.next_push[:] = 0  # every robot is due
    env._push()
    kick = env.state[:, env._qvel0 : env._qvel0 + 2] - before
    assert np.all(np.abs(kick) <= RANGES.push_velocity_m_s) and np.abs(kick).max() > 0.5 * RANGES.push_velocity_m_s
    assert np.all(env.next_push > 0)


def test_the_envelope_limits_each_robots_motors_at_speed() -> None:
    env = make_env(n=2)
    env.reset()
    dq = np.zeros((2, 12))
    dq[1] = GO2.velocity_limits  # robot 1 at every joint's limit: nothing left to drive forward
    env._limit_torques(dq)
    high = env.models[1].actuator_forcerange[env.index.actuators, 1]
    np.testing.assert_allclose(high, 0.0, atol=1e-9)
    expected = GO2.torque_limits * env.strength[0]
    np.testing.assert_allclose(env.models[0].actuator_forcerange[env.index.actuators, 1], expected)


def test_rough_ground_follows_the_curriculum_and_feet_contacts_see_it() -> None:
    env = make_env(n=64)
    env.reset()
    assert np.all(env.rough_height == 0.0)  # level 0: flat
    env.terrain_level = 1.0
    env._reset_envs(np.arange(64))
    rough = env.rough_height > 0
    assert 0.2 < rough.mean() < 0.6 and env.rough_height.max() <= RANGES.rough_ground_m[1]
    on = [int(m.geom_conaffinity[env._ground_geom]) for m in env.models]
    assert on == rough.astype(int).tolist()
    env._advance_terrain_curriculum(survived=0, fell=10)
    assert env.terrain_level == pytest.approx(0.98)


def test_mirroring_the_critic_input_twice_is_the_identity_and_swaps_fault_sides() -> None:
    env = make_env(n=2)
    env.reset()
    mirror = Mirror(env.layout, GO2.mirror, torch.device("cpu"), env.privileged_layout)
    size = env.layout.dim + env.privileged_layout.dim
    x = torch.randn(5, size)
    torch.testing.assert_close(mirror.critic_obs(mirror.critic_obs(x)), x)
    # A limp front-left knee in the privileged terms mirrors onto the front-right knee.
    torque_left = env.privileged_layout.slices()["motor_torque_left"]
    critic_in = torch.ones(1, size)
    critic_in[0, env.layout.dim + torque_left.start + GO2.joint_index("FL_calf_joint")] = 0.0
    mirrored = mirror.critic_obs(critic_in)[0, env.layout.dim + torque_left.start :][: GO2.num_joints]
    assert mirrored[GO2.joint_index("FR_calf_joint")] == 0.0 and mirrored.sum() == GO2.num_joints - 1
    # Feet contacts swap sides too.
    feet = env.privileged_layout.slices()["feet_contact"]
    critic_in = torch.zeros(1, size)
    critic_in[0, env.layout.dim + feet.start + GO2.feet.index("FL_foot")] = 1.0
    assert mirror.critic_obs(critic_in)[0, env.layout.dim + feet.start + GO2.feet.index("FR_foot")] == 1.0


def test_privileged_terms_report_the_fault_and_the_true_velocity() -> None:
    sampler = TaskSampler(joints=("FL_calf_joint",), fault_probability=1.0, kind_weights=(1.0, 0.0, 0.0))
    env = make_env(n=4, sampler=sampler)
    env.reset()
    for i in range(4):
        env.set_task(i, env.tasks[i].__class__(env.tasks[i].fault, 0, 0.0))
    result = env.step(np.zeros((4, 12)))
    slices = env.privileged_layout.slices()
    torque_left = result.privileged[:, slices["motor_torque_left"]]
    assert np.all(torque_left[:, GO2.joint_index("FL_calf_joint")] == 0.0)
    velocity = result.privileged[:, slices["base_linear_velocity"]] / 2.0  # scale 2
    np.testing.assert_allclose(velocity, result.base_velocity, atol=1e-5)


def test_an_asymmetric_critic_trains_and_a_warmed_up_actor_stays_put_while_the_critic_learns(tmp_path: Path) -> None:
    env = make_env(n=8, sampler=TaskSampler(leg_joints(GO2, LEFT_LEGS)), episode_steps=12)
    net = NetConfig(hidden=16, head=(32,), critic="mlp", privileged_dim=env.privileged_layout.dim)
    ppo = RecurrentPpo(env, PpoConfig(steps_per_iteration=12, net=net, critic_warmup_iterations=2))
    assert ppo.model.critic_memory.rnn is None  # no memory in the critic
    actor = [p.detach().clone() for n, p in ppo.model.named_parameters() if n.startswith("actor_")]
    critic = [p.detach().clone() for n, p in ppo.model.named_parameters() if n.startswith("critic_")]
    ppo.train(2, tmp_path, checkpoint_every=2)
    after_actor = [p for n, p in ppo.model.named_parameters() if n.startswith("actor_")]
    after_critic = [p for n, p in ppo.model.named_parameters() if n.startswith("critic_")]
    assert all(torch.equal(a, b) for a, b in zip(actor, after_actor, strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(critic, after_critic, strict=True))
    ppo.train(1, tmp_path, checkpoint_every=1)
    assert any(not torch.equal(a, b) for a, b in zip(actor, after_actor, strict=True))
    # Another run starts from this actor, with a critic of its own.
    other = RecurrentPpo(env, PpoConfig(steps_per_iteration=12, net=net), seed=5)
    other.init_actor(tmp_path / "checkpoint.pt")
    torch.testing.assert_close(other.model.actor_head[0].weight, ppo.model.actor_head[0].weight)
    assert not torch.equal(other.model.critic_head[0].weight, ppo.model.critic_head[0].weight)


def test_sinking_heavy_joints_stand_on_the_contact_models_hard_end_and_the_others_keep_its_shares() -> None:
    """With heavy_joints_sink, every heavy-joint robot meets the suite's heavy point whole:
    condim 6, elliptic cones, and torsional and rolling friction, impratio and foot softness
    from their top quarters. The other robots draw the contact model's shares as before."""
    ranges = RANGES.model_copy(
        update={"heavy_joint_share": 0.3, "joint_friction_share": 0.0, "heavy_joints_sink": True}
    )
    assert ranges.impratio is not None and ranges.rich_contact_share < 1.0
    rng = np.random.default_rng(0)
    drawn = [rnd.sample_dynamics(ranges, rng, LEGS) for _ in range(2000)]
    heavy = np.array([d.joint_friction_loss > 0 for d in drawn])
    assert heavy.mean() == pytest.approx(0.3, abs=0.04)
    for name in ("torsional_friction", "rolling_friction", "impratio", "foot_contact_time_constant_s"):
        low, high = getattr(ranges, name)
        values = np.array([getattr(d, name) for d in drawn])
        assert values[heavy].min() >= low + 0.75 * (high - low) and values[heavy].max() <= high, name
    assert all(d.contact_dimension == 6 and d.elliptic_cone for d, h in zip(drawn, heavy, strict=True) if h)
    rich = np.array([d.contact_dimension == 6 for d, h in zip(drawn, heavy, strict=True) if not h])
    assert rich.mean() == pytest.approx(ranges.rich_contact_share, abs=0.05)


def test_sinking_changes_only_the_heavy_robots_and_their_joints_not_at_all() -> None:
    """The flag off (its default, every run before it) draws what it drew; on, a robot without
    heavy joints draws the same, and a heavy one the same joints on the hard contact end."""
    assert not RandomizationRanges.model_fields["heavy_joints_sink"].default
    sink = RANGES.model_copy(update={"heavy_joint_share": 0.3, "joint_friction_share": 0.0, "heavy_joints_sink": True})
    plain = sink.model_copy(update={"heavy_joints_sink": False})
    heavy_seen = 0
    for seed in range(100):
        before = rnd.sample_dynamics(plain, np.random.default_rng(seed), LEGS)
        after = rnd.sample_dynamics(sink, np.random.default_rng(seed), LEGS)
        if before.joint_friction_loss == 0:  # not heavy: friction loss only on heavy robots here
            assert after == before
        else:
            heavy_seen += 1
            assert (after.joint_damping, after.armature_scale) == (before.joint_damping, before.armature_scale)
            assert after.contact_dimension == 6 and after.elliptic_cone
    assert 10 < heavy_seen < 50


def test_the_hard_contact_end_keeps_off_what_the_ranges_turn_off() -> None:
    """MuJoCo Warp holds condim and the cone once for all worlds (warp_physics.warp_ranges
    turns their shares off): sinking heavy robots must not bring them back."""
    ranges = RANGES.model_copy(
        update={
            "heavy_joint_share": 1.0,
            "heavy_joints_sink": True,
            "rich_contact_share": 0.0,
            "elliptic_cone_share": 0.0,
        }
    )
    rng = np.random.default_rng(0)
    for _ in range(50):
        d = rnd.sample_dynamics(ranges, rng, LEGS)
        assert d.contact_dimension is None and not d.elliptic_cone
        low, high = ranges.foot_contact_time_constant_s
        assert d.foot_contact_time_constant_s is not None and d.foot_contact_time_constant_s >= low + 0.75 * (
            high - low
        )
