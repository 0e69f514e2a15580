"""Dynamics points: each term changes the model as it says, and composes with faults."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from memaug_common.description import load_robot_description
from memaug_sim.commands import JointCommand
from memaug_sim.dynamics import NOMINAL, Dynamics
from memaug_sim.faults import PayloadFault, WeakenedFault
from memaug_sim.simulator import Simulator
from memaug_sim.terrain import ROUGH_LIFT_M, GroundLookup, Terrain

GO2 = load_robot_description("go2")
KNEE = GO2.joint_index("FR_calf_joint")


def swing_speed_after(dynamics: Dynamics, seconds: float = 0.05) -> float:
    """|dq| of the front-right knee, spun at 5 rad/s with the robot floating (no gravity,
    passive motors off), ``seconds`` later."""
    sim = Simulator(GO2, dynamics=dynamics)
    sim.model.opt.gravity[:] = 0.0
    sim.data.qpos[2] = 1.0  # in the air
    sim.data.qvel[sim.index.qvel[KNEE]] = 5.0
    for _ in range(round(seconds / sim.physics_period_s)):
        sim.step_torque(np.zeros(GO2.num_joints))
    return abs(float(sim.data.qvel[sim.index.qvel[KNEE]]))


def test_added_damping_slows_a_freely_swinging_leg() -> None:
    free, damped = swing_speed_after(Dynamics(joint_damping=0.0)), swing_speed_after(Dynamics(joint_damping=2.0))
    assert free > 4.5  # little but the MJCF's rotor inertia and the leg's own inertia
    assert damped < 0.5 * free
    # Viscous: the damping force is -b dq on the joint at the start.
    sim = Simulator(GO2, dynamics=Dynamics(joint_damping=2.0))
    sim.data.qvel[sim.index.qvel[KNEE]] = 5.0
    mujoco.mj_forward(sim.model, sim.data)
    assert sim.data.qfrc_damper[sim.index.qvel[KNEE]] == pytest.approx(-10.0)


def test_friction_loss_stops_a_slow_swing() -> None:
    assert swing_speed_after(Dynamics(joint_friction_loss=0.3), seconds=0.2) < 0.05 * swing_speed_after(NOMINAL, 0.2)


def test_every_term_lands_in_the_model_and_nominal_restores_it() -> None:
    sim = Simulator(GO2)
    nominal = {f: getattr(sim.model, f).copy() for f in ("body_mass", "body_ipos", "geom_friction", "dof_armature")}
    point = Dynamics(
        armature_scale=3.0,
        ground_friction=0.3,
        added_base_mass_kg=2.0,
        base_com_offset_m=(0.05, 0.0, -0.02),
        link_mass_scale=1.1,
        contact_time_constant_s=0.03,
        kp_scale=0.75,
        kd_scale=1.25,
    )
    sim.set_dynamics(point)
    base = sim.index.base_body
    assert sim.model.body_mass[base] == pytest.approx(nominal["body_mass"][base] + 2.0)
    np.testing.assert_allclose(sim.model.body_ipos[base] - nominal["body_ipos"][base], [0.05, 0.0, -0.02])
    assert np.all(sim.model.geom_friction[:, 0] == 0.3) and np.all(sim.model.geom_solref[:, 0] == 0.03)
    np.testing.assert_allclose(sim.model.dof_armature[sim.index.qvel], 3 * nominal["dof_armature"][sim.index.qvel])
    np.testing.assert_allclose(sim.kp, 0.75 * GO2.kp)
    np.testing.assert_allclose(sim.kd, 1.25 * GO2.kd)
    sim.set_dynamics(NOMINAL)
    for field, values in nominal.items():
        np.testing.assert_array_equal(getattr(sim.model, field), values)


def test_faults_act_on_top_of_the_dynamics() -> None:
    sim = Simulator(GO2, dynamics=Dynamics(added_base_mass_kg=1.0))
    base = sim.index.base_body
    nominal_mass = load_nominal_base_mass()
    sim.inject(PayloadFault(kind="payload", mass_kg=2.0))
    assert sim.model.body_mass[base] == pytest.approx(nominal_mass + 3.0)
    sim.set_dynamics(Dynamics(added_base_mass_kg=-1.0))  # new dynamics keep the payload
    assert sim.model.body_mass[base] == pytest.approx(nominal_mass + 1.0)
    sim.inject(WeakenedFault(kind="weakened", joint="FR_calf_joint", factor=0.5))
    assert sim.faults.torque_factor[KNEE] == 0.5


def load_nominal_base_mass() -> float:
    sim = Simulator(GO2)
    return float(sim.model.body_mass[sim.index.base_body])


def test_the_bridge_pd_obeys_the_torque_speed_envelope() -> None:
    sim = Simulator(GO2)
    speed = 0.9 * GO2.velocity_limits[KNEE]
    sim.data.qvel[sim.index.qvel[KNEE]] = speed
    target = GO2.default_pose.copy()
    target[KNEE] += 1.0  # far ahead: the PD asks for the full torque limit, driving
    zeros = np.zeros(GO2.num_joints)
    sim.submit_command(JointCommand(target, zeros, zeros))
    sim.step()
    available = sim.envelope.bounds(np.full(GO2.num_joints, speed))[1][KNEE]
    assert sim.data.actuator_force[sim.index.actuators[KNEE]] == pytest.approx(available, rel=0.05)
    assert available < 0.25 * GO2.torque_limits[KNEE]


def test_ground_lookup_matches_mujocos_height_field() -> None:
    sim = Simulator(GO2, terrain=Terrain(kind="rough", height_m=0.05))
    lookup = GroundLookup.rough(0)
    rng = np.random.default_rng(1)
    errors = []
    for x, y in rng.uniform(-9.5, 9.5, size=(200, 2)):
        geom = np.zeros(1, dtype=np.int32)
        distance = mujoco.mj_ray(sim.model, sim.data, np.array([x, y, 1.0]), np.array([0, 0, -1.0]), None, 1, -1, geom)
        errors.append(1.0 - distance - lookup.height(np.array([x]), np.array([y]), np.array([0.05]))[0])
    errors_mm = 1e3 * np.abs(errors)
    assert np.mean(errors_mm) < 3.0 and np.max(errors_mm) < 25.0  # bilinear vs MuJoCo's triangles


def test_feet_on_rough_ground_touch_the_field_and_not_the_floor_under_it() -> None:
    """The field stands ROUGH_LIFT_M above the floor: a standing foot makes one contact, not
    a duplicate pair (each contact is solver rows: a quarter of a rough-ground robot's)."""
    sim = Simulator(GO2, terrain=Terrain(kind="rough", height_m=0.05))
    for step in range(500):  # 1 s standing on the flat patch at the origin
        if step % GO2.substeps == 0:
            sim.submit_command(JointCommand(GO2.default_pose.copy(), np.zeros(12), np.zeros(12)))
        sim.step()
    model = sim.model
    touched = [
        {mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_GEOM, g) for g in (c.geom1, c.geom2)}
        for c in sim.data.contact[: sim.data.ncon]
    ]
    assert sum("terrain_rough" in pair for pair in touched) >= 4, touched
    assert not any("floor" in pair for pair in touched), touched
    assert sim.base().position[2] == pytest.approx(GO2.nominal_base_height_m + ROUGH_LIFT_M, abs=0.02)


def test_a_step_stands_ahead_of_the_robot() -> None:
    sim = Simulator(GO2, terrain=Terrain(kind="step", height_m=0.05))
    geom = np.zeros(1, dtype=np.int32)
    ahead = mujoco.mj_ray(sim.model, sim.data, np.array([2.0, 0.0, 1.0]), np.array([0, 0, -1.0]), None, 1, -1, geom)
    start = mujoco.mj_ray(sim.model, sim.data, np.array([0.0, 0.3, 1.0]), np.array([0, 0, -1.0]), None, 1, -1, geom)
    assert ahead == pytest.approx(0.95) and start == pytest.approx(1.0)


def standing(dynamics: Dynamics, seconds: float = 2.0) -> Simulator:
    """A robot that has held its default pose for ``seconds`` on flat ground."""
    sim = Simulator(GO2, command_timeout_s=10.0, dynamics=dynamics)
    zeros = np.zeros(GO2.num_joints)
    for _ in range(round(seconds / sim.physics_period_s)):
        sim.submit_command(JointCommand(GO2.default_pose.copy(), zeros, zeros))
        sim.step()
    return sim


def feet_sinkage_m(sim: Simulator) -> float:
    """Deepest penetration of a foot into the ground, m."""
    feet = set(sim.index.feet_geoms.tolist())
    contacts = [sim.data.contact[i] for i in range(sim.data.ncon)]
    return max(-c.dist for c in contacts if {c.geom1, c.geom2} & feet)


def test_contact_model_terms_land_in_the_model_and_nominal_restores_them() -> None:
    sim = Simulator(GO2)
    nominal = (sim.model.geom_condim.copy(), sim.model.geom_friction.copy(), int(sim.model.opt.cone))
    sim.set_dynamics(
        Dynamics(
            contact_dimension=6,
            torsional_friction=0.02,
            rolling_friction=0.003,
            elliptic_cone=True,
            impratio=20.0,
            foot_contact_time_constant_s=0.08,
        )
    )
    feet = sim.index.feet_geoms
    assert np.all(sim.model.geom_condim == 6)
    np.testing.assert_allclose(sim.model.geom_friction[:, 1:], [[0.02, 0.003]] * sim.model.ngeom)
    assert sim.model.opt.cone == mujoco.mjtCone.mjCONE_ELLIPTIC and sim.model.opt.impratio == 20.0
    np.testing.assert_allclose(sim.model.geom_solref[feet, 0], 0.08)
    assert np.all(sim.model.geom_priority[feet] > sim.model.geom_priority[0])  # the feet's softness wins
    sim.set_dynamics(NOMINAL)
    np.testing.assert_array_equal(sim.model.geom_condim, nominal[0])
    np.testing.assert_array_equal(sim.model.geom_friction, nominal[1])
    assert sim.model.opt.cone == nominal[2] and np.all(sim.model.geom_priority == 0)


def test_soft_feet_sink_into_the_ground_by_centimetres() -> None:
    hard = feet_sinkage_m(standing(NOMINAL))
    soft = feet_sinkage_m(standing(Dynamics(foot_contact_time_constant_s=0.08, impratio=1.0)))
    assert hard < 0.002  # the MJCF's contact: about a millimetre
    assert 0.008 < soft < 0.02  # measured 10-14 mm (the field's description)


def test_per_joint_link_mass_scales_only_that_joints_link() -> None:
    sim = Simulator(GO2)
    before = sim.model.body_mass.copy()
    scale = np.ones(GO2.num_joints)
    scale[KNEE] = 1.2
    sim.set_dynamics(Dynamics(joint_link_mass_scale=tuple(scale)))
    calf = sim.model.jnt_bodyid[sim.model.joint("FR_calf_joint").id]
    changed = np.flatnonzero(sim.model.body_mass != before)
    assert changed.tolist() == [calf]
    assert sim.model.body_mass[calf] == pytest.approx(1.2 * before[calf])


def test_a_weaker_leg_gets_less_torque_and_offsets_move_where_the_motors_hold() -> None:
    strength = np.ones(GO2.num_joints)
    strength[:3] = 0.5  # the front-right leg's motors
    weak = Simulator(GO2, dynamics=Dynamics(joint_strength_scale=tuple(strength)))
    pushing = JointCommand(GO2.default_pose.copy(), np.zeros(12), np.full(12, 100.0))  # every motor saturates
    weak.submit_command(pushing)
    weak.step()
    force = weak.data.actuator_force[weak.index.actuators]
    np.testing.assert_allclose(force[:3], 0.5 * GO2.torque_limits[:3], rtol=1e-6)
    np.testing.assert_allclose(force[3:], GO2.torque_limits[3:], rtol=1e-6)

    # Floating, so that nothing but the motors sets the joints: each holds the default pose as
    # its own encoder reads it, the true angle default - offset.
    offset = np.linspace(-0.02, 0.02, GO2.num_joints)
    off = Simulator(GO2, command_timeout_s=10.0, dynamics=Dynamics(joint_offset_rad=tuple(offset)))
    off.model.opt.gravity[:] = 0.0
    off.data.qpos[2] = 1.0
    for _ in range(500):
        off.submit_command(JointCommand(GO2.default_pose.copy(), np.zeros(12), np.zeros(12)))
        off.step()
    true_q = off.data.qpos[off.index.qpos]
    np.testing.assert_allclose(true_q, GO2.default_pose - offset, atol=1e-3)
    np.testing.assert_allclose(off.joints().position - true_q, offset)  # what the encoders read


def test_per_joint_terms_must_have_one_entry_per_joint() -> None:
    with pytest.raises(ValueError, match="joint_strength_scale has 3 entries for 12 joints"):
        Simulator(GO2, dynamics=Dynamics(joint_strength_scale=(1.0, 1.0, 1.0)))
