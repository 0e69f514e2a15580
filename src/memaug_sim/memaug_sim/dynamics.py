"""A robot's physical parameters away from the nominal model: one point of the dynamics space.

Training samples these per robot and episode (memaug_train.randomization), the robustness
suite sets them to fixed points, and a sim scenario can name them (``dynamics:``), so any
point replays through the real stack. Fields left at their defaults keep the MJCF's and the
robot description's values.

``apply_physics`` writes the body, joint and contact terms into an MjModel from a snapshot of
its nominal values, so applying twice or in any order gives the same model. Gains and motor
strength are the caller's: the sim bridge computes PD in Python, the training environment
uses MuJoCo position actuators.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    model.body_mass[:] = nominal.body_mass
    model.body_inertia[:] = nominal.body_inertia
    model.body_mass[legs] = nominal.body_mass[legs] * dynamics.link_mass_scale
    model.body_inertia[legs] = nominal.body_inertia[legs] * dynamics.link_mass_scale
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


def position_gains(
    model: mujoco.MjModel, index: ModelIndex, kp: np.ndarray, kd: np.ndarray, dynamics: Dynamics
) -> None:
    """Set position actuators' gains to ``dynamics``' scales of kp, kd ([J] in description order)."""
    actuators = index.actuators
    kp_scaled, kd_scaled = kp * dynamics.kp_scale, kd * dynamics.kd_scale
    model.actuator_gainprm[actuators, 0] = kp_scaled
    model.actuator_biasprm[actuators, 1] = -kp_scaled
    model.actuator_biasprm[actuators, 2] = -kd_scaled
