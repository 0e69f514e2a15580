"""A robot's physical parameters away from the nominal model: one point of the dynamics space.

Training samples these per robot and episode (memaug_train.randomization), the robustness
suite sets them to fixed points, and a sim scenario can name them (``dynamics:``), so any
point replays through the real stack. Fields left at their defaults keep the MJCF's and the
robot description's values.

``apply_physics`` writes the body, joint and contact terms into an MjModel from a snapshot of
its nominal values, so applying twice or in any order gives the same model. Gains and motor
strength are the caller's: the sim bridge computes PD in Python, the training environment
uses MuJoCo position actuators; so are the per-joint motor strengths and encoder offsets
(``joint_strength`` and ``measured_offsets`` give them as arrays).

Two families sit beside the physical constants. The contact model: contact dimension (6 adds
torsional and rolling friction), friction cone and impratio, and soft feet that sink into the
ground. And a robot that is not mirror-symmetric: per-joint motor strength, per-link mass and
per-joint encoder offsets, all [num_joints] in the robot description's joint order (a link is
the body its joint moves), with the lateral centre-of-mass offset among the body terms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import mujoco
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from memaug_sim.model import ModelIndex


class Dynamics(BaseModel):
    """Units: N m s/rad, N m, kg, m, s; scales are factors on the nominal value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    joint_damping: float | None = Field(default=None, ge=0.0, description="N m s/rad on every joint")
    joint_friction_loss: float | None = Field(default=None, ge=0.0, description="N m on every joint")
    armature_scale: float = Field(default=1.0, gt=0.0)
    kp_scale: float = Field(default=1.0, ge=0.0)
    kd_scale: float = Field(default=1.0, ge=0.0)
    motor_strength: float = Field(default=1.0, ge=0.0, description="x every torque limit")
    ground_friction: float | None = Field(default=None, gt=0.0, description="sliding friction of every contact")
    added_base_mass_kg: float = Field(default=0.0, ge=-5.0, le=50.0)
    base_com_offset_m: tuple[float, float, float] = (0.0, 0.0, 0.0)
    link_mass_scale: float = Field(default=1.0, gt=0.0)
    contact_time_constant_s: float | None = Field(default=None, gt=0.0, description="MuJoCo solref[0], s")
    contact_dimension: Literal[3, 4, 6] | None = Field(
        default=None, description="3: sliding friction; 4: + torsional; 6: + rolling (None: the MJCF's)"
    )
    torsional_friction: float | None = Field(default=None, ge=0.0, description="m, MuJoCo friction[1]")
    rolling_friction: float | None = Field(default=None, ge=0.0, description="m, MuJoCo friction[2]")
    elliptic_cone: bool | None = Field(default=None, description="elliptic friction cones (None: the MJCF's)")
    impratio: float | None = Field(default=None, ge=1.0, description="friction-to-normal impedance ratio")
    foot_contact_time_constant_s: float | None = Field(
        default=None,
        gt=0.0,
        description="soft feet: MuJoCo solref[0] of the feet's contacts, s. The standing Go2 with elliptic cones "
        "(impratio 100, condim 6) sinks 0.9 cm at 0.05 and 2.3 cm at 0.08; with pyramidal cones at impratio 1, "
        "1-1.4 cm at 0.08; at impratio 100 they stay within a millimetre",
    )
    joint_strength_scale: tuple[float, ...] | None = Field(
        default=None, description="[J] x each motor's torque limits, on top of motor_strength"
    )
    joint_link_mass_scale: tuple[float, ...] | None = Field(
        default=None, description="[J] x the mass and inertia of the link each joint moves, on top of link_mass_scale"
    )
    joint_offset_rad: tuple[float, ...] | None = Field(
        default=None, description="[J] encoder offsets: each joint reads its true angle plus this, rad"
    )

    def joint_strength(self, num_joints: int) -> np.ndarray:
        """[J] each motor's factor on its torque limits: motor_strength x its own scale."""
        own = np.ones(num_joints) if self.joint_strength_scale is None else np.asarray(self.joint_strength_scale)
        return self.motor_strength * _per_joint(own, num_joints, "joint_strength_scale")

    def measured_offsets(self, num_joints: int) -> np.ndarray:
        """[J] rad the encoders add to the true joint angles (zeros when calibrated)."""
        if self.joint_offset_rad is None:
            return np.zeros(num_joints)
        return _per_joint(np.asarray(self.joint_offset_rad), num_joints, "joint_offset_rad")


def _per_joint(values: np.ndarray, num_joints: int, name: str) -> np.ndarray:
    if values.shape != (num_joints,):
        raise ValueError(f"Dynamics.{name} has {values.size} entries for {num_joints} joints")
    return values


NOMINAL = Dynamics()


@dataclass(frozen=True)
class NominalPhysics:
    """Copies of the model fields ``apply_physics`` writes, taken before any change."""

    dof_damping: np.ndarray
    dof_frictionloss: np.ndarray
    dof_armature: np.ndarray
    body_mass: np.ndarray
    body_inertia: np.ndarray
    body_ipos: np.ndarray
    geom_friction: np.ndarray
    geom_solref: np.ndarray
    geom_condim: np.ndarray
    geom_priority: np.ndarray
    cone: int
    impratio: float

    @classmethod
    def of(cls, model: mujoco.MjModel) -> NominalPhysics:
        return cls(
            model.dof_damping.copy(),
            model.dof_frictionloss.copy(),
            model.dof_armature.copy(),
            model.body_mass.copy(),
            model.body_inertia.copy(),
            model.body_ipos.copy(),
            model.geom_friction.copy(),
            model.geom_solref.copy(),
            model.geom_condim.copy(),
            model.geom_priority.copy(),
            int(model.opt.cone),
            float(model.opt.impratio),
        )


def apply_physics(model: mujoco.MjModel, index: ModelIndex, nominal: NominalPhysics, dynamics: Dynamics) -> None:
    """Write ``dynamics``' body, joint and contact terms into ``model`` (from ``nominal``)."""
    joints = index.qvel
    model.dof_damping[:] = nominal.dof_damping
    model.dof_frictionloss[:] = nominal.dof_frictionloss
    if dynamics.joint_damping is not None:
        model.dof_damping[joints] = dynamics.joint_damping
    if dynamics.joint_friction_loss is not None:
        model.dof_frictionloss[joints] = dynamics.joint_friction_loss
    model.dof_armature[:] = nominal.dof_armature
    model.dof_armature[joints] = nominal.dof_armature[joints] * dynamics.armature_scale

    # Leg links: every body below the base. The base gets the added mass (inertia scaled with
    # it, as a denser base) and the centre-of-mass offset.
    base = index.base_body
    legs = np.array([b for b in range(1, model.nbody) if b != base and model.body_rootid[b] == base])
    link_scale = np.ones(model.nbody)
    link_scale[legs] = dynamics.link_mass_scale
    if dynamics.joint_link_mass_scale is not None:
        own = _per_joint(np.asarray(dynamics.joint_link_mass_scale), len(joints), "joint_link_mass_scale")
        link_scale[model.jnt_bodyid[model.dof_jntid[joints]]] *= own
    model.body_mass[:] = nominal.body_mass * link_scale
    model.body_inertia[:] = nominal.body_inertia * link_scale[:, None]
    base_mass = max(nominal.body_mass[base] + dynamics.added_base_mass_kg, 0.1 * nominal.body_mass[base])
    model.body_mass[base] = base_mass
    model.body_inertia[base] = nominal.body_inertia[base] * base_mass / nominal.body_mass[base]
    model.body_ipos[:] = nominal.body_ipos
    model.body_ipos[base] = nominal.body_ipos[base] + np.asarray(dynamics.base_com_offset_m)

    # Contacts mix friction by maximum and solref by average, so setting every geom sets
    # every contact (feet on the ground above all) to exactly these values.
    model.geom_friction[:] = nominal.geom_friction
    if dynamics.ground_friction is not None:
        model.geom_friction[:, 0] = dynamics.ground_friction
    model.geom_solref[:] = nominal.geom_solref
    if dynamics.contact_time_constant_s is not None:
        model.geom_solref[:, 0] = dynamics.contact_time_constant_s
    _apply_contact_model(model, index, nominal, dynamics)


def _apply_contact_model(model: mujoco.MjModel, index: ModelIndex, nominal: NominalPhysics, dynamics: Dynamics) -> None:
    """Contact dimension, torsional and rolling friction, cone, impratio and soft feet."""
    model.geom_condim[:] = nominal.geom_condim
    if dynamics.contact_dimension is not None:  # a contact takes the larger condim of its geoms
        model.geom_condim[:] = dynamics.contact_dimension
    if dynamics.torsional_friction is not None:
        model.geom_friction[:, 1] = dynamics.torsional_friction
    if dynamics.rolling_friction is not None:
        model.geom_friction[:, 2] = dynamics.rolling_friction
    model.opt.cone = nominal.cone
    if dynamics.elliptic_cone is not None:
        model.opt.cone = mujoco.mjtCone.mjCONE_ELLIPTIC if dynamics.elliptic_cone else mujoco.mjtCone.mjCONE_PYRAMIDAL
    model.opt.impratio = nominal.impratio if dynamics.impratio is None else dynamics.impratio
    # Soft feet: the feet's own solref, made to win over the ground's by priority (MuJoCo
    # averages the two geoms' values when their priorities are equal).
    feet = index.feet_geoms
    model.geom_priority[:] = nominal.geom_priority
    if dynamics.foot_contact_time_constant_s is not None:
        model.geom_solref[feet, 0] = dynamics.foot_contact_time_constant_s
        model.geom_priority[feet] = nominal.geom_priority.max() + 1


def position_gains(
    model: mujoco.MjModel, index: ModelIndex, kp: np.ndarray, kd: np.ndarray, dynamics: Dynamics
) -> None:
    """Set position actuators' gains to ``dynamics``' scales of kp, kd ([J] in description order)."""
    actuators = index.actuators
    kp_scaled, kd_scaled = kp * dynamics.kp_scale, kd * dynamics.kd_scale
    model.actuator_gainprm[actuators, 0] = kp_scaled
    model.actuator_biasprm[actuators, 1] = -kp_scaled
    model.actuator_biasprm[actuators, 2] = -kd_scaled
