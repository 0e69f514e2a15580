"""The robot description: one YAML per robot (config/robots/NAME.yaml), one schema.

Everything that sim, policy, hardware and training must agree on lives here: joint order,
default pose, limits, PD gains, control and physics periods, and the left-right symmetry.
Arrays returned by :class:`RobotDescription` are float64 of shape [num_joints] in the
description's joint order (for the Go2, the SDK's motor order).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from memaug_common.paths import resolve_config_file
from memaug_common.symmetry import MirrorSymmetry
from memaug_common.yaml_io import load_yaml_model


def whole_steps(period_s: float, step_s: float) -> int | None:
    """How many ``step_s`` make ``period_s`` (e.g. physics steps per control period), or None
    when that is not a whole number of at least one."""
    ratio = period_s / step_s
    steps = round(ratio)
    return steps if steps >= 1 and abs(ratio - steps) <= 1e-6 else None


class _Strict(BaseModel):
    """Base for config schemas: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class JointGains(_Strict):
    kp: float = Field(ge=0.0, description="position gain, N m/rad")
    kd: float = Field(ge=0.0, description="velocity gain, N m s/rad")


class JointSpec(_Strict):
    name: str = Field(min_length=1)
    default: float = Field(description="standing pose position, rad")
    lower: float = Field(description="lower position limit, rad")
    upper: float = Field(description="upper position limit, rad")
    torque_limit: float = Field(gt=0.0, description="N m")
    velocity_limit: float = Field(gt=0.0, description="rad/s")
    kp: float | None = Field(default=None, ge=0.0, description="overrides joint_defaults.kp")
    kd: float | None = Field(default=None, ge=0.0, description="overrides joint_defaults.kd")

    @model_validator(mode="after")
    def _default_inside_limits(self) -> JointSpec:
        if not self.lower < self.upper:
            raise ValueError(f"joint {self.name}: lower ({self.lower}) must be below upper ({self.upper})")
        if not self.lower <= self.default <= self.upper:
            raise ValueError(f"joint {self.name}: default {self.default} outside [{self.lower}, {self.upper}]")
        return self


Range = tuple[float, float]


class _Ranges(_Strict):
    @model_validator(mode="after")
    def _ordered(self) -> _Ranges:
        for name, value in self:
            if isinstance(value, tuple) and len(value) == 2 and not value[0] <= value[1]:
                raise ValueError(f"{name}: low {value[0]} above high {value[1]}")
        return self


class ObservationNoise(_Strict):
    """Uniform noise half-widths on what the actor sees, in the sensors' own units."""

    gyro: float = Field(ge=0.0, description="rad/s")
    gravity: float = Field(ge=0.0, description="projected gravity, unit vector components")
    joint_position: float = Field(ge=0.0, description="rad")
    joint_velocity: float = Field(ge=0.0, description="rad/s")


class RandomizationRanges(_Ranges):
    """Nuisance randomization for training: what is not known about a real robot, sampled
    uniformly per robot and per episode. Kept apart from the method's task family (which
    joint fails, payload), which memaug_train.tasks owns.

    Every field is a [low, high] range (or a half-width); the training run records them and
    the exported policy carries them in its provenance.
    """

    joint_damping: Range = Field(description="viscous joint damping, N m s/rad (absolute)")
    joint_friction_loss: Range = Field(description="dry joint friction, N m (absolute)")
    joint_friction_share: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description="share of robots drawn with joint friction loss; the others have none (it costs solver rows)",
    )
    armature_scale: Range = Field(description="x the MJCF's rotor inertia")
    heavy_joint_share: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="share of robots whose joints are heavy all at once: damping, friction loss (always on) and "
        "armature each drawn from the top quarter of its range; independent draws almost never meet there, where "
        "a robot with worn, stiff joints sits",
    )
    heavy_joints_sink: bool = Field(
        default=False,
        description="the heavy-joint robots also stand on the contact model's hard end: condim 6 with torsional "
        "and rolling friction, elliptic cones, impratio and foot softness each from the top quarter of its range "
        "(the suite's heavy point whole, which independent shares put on about 1 robot in 2000)",
    )
    kp_scale: Range = Field(description="x the description's kp")
    kd_scale: Range = Field(description="x the description's kd")
    motor_strength: Range = Field(description="x every torque limit")
    ground_friction: Range = Field(description="sliding friction coefficient of every contact")
    ground_friction_log_uniform: bool = Field(
        default=False,
        description="draw ground friction uniformly in its logarithm: as many robots on 0.1-0.2 as on 0.5-1.0, "
        "so a range reaching down to ice trains on ice without thinning the common grounds",
    )
    added_base_mass_kg: Range = Field(description="kg added to the base body")
    base_com_offset_m: Range = Field(description="m, added to the base's centre of mass, per axis")
    link_mass_scale: Range = Field(description="x the mass and inertia of every leg link")
    contact_time_constant_s: Range = Field(description="contact softness: MuJoCo solref time constant, s")
    observation_noise: ObservationNoise
    action_latency_s: Range = Field(description="delay before a new joint target reaches the motors, s")
    sensor_latency_s: Range = Field(description="age of the joint and IMU readings the policy sees, s")
    push_velocity_m_s: float = Field(ge=0.0, description="largest horizontal kick to the base, m/s per axis")
    push_interval_s: Range = Field(description="time between kicks, s")
    rough_ground_m: Range = Field(description="height of the rough-ground bumps, m (a curriculum moves up it)")
    # The contact model: off unless a share is given (each costs solver time).
    rich_contact_share: float = Field(
        default=0.0, ge=0.0, le=1.0, description="share of robots whose contacts have torsional and rolling friction"
    )
    torsional_friction: Range = Field(default=(0.0, 0.0), description="m, on the rich-contact robots")
    rolling_friction: Range = Field(default=(0.0, 0.0), description="m, on the rich-contact robots")
    elliptic_cone_share: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="share of the rich-contact robots with elliptic friction cones (the rest pyramidal)",
    )
    impratio: Range | None = Field(default=None, description="friction-to-normal impedance ratio (None: the MJCF's)")
    soft_feet_share: float = Field(default=0.0, ge=0.0, le=1.0, description="share of robots whose feet sink in")
    foot_contact_time_constant_s: Range = Field(
        default=(0.02, 0.02), description="soft feet: MuJoCo solref time constant of the feet's contacts, s"
    )
    # A robot that is not mirror-symmetric (the lateral CoM offset is base_com_offset_m's y).
    leg_strength_scale: Range = Field(default=(1.0, 1.0), description="x the motors' strength, drawn per leg")
    leg_mass_scale: Range = Field(default=(1.0, 1.0), description="x the mass of a leg's links, drawn per leg")
    joint_offset_rad: float = Field(
        default=0.0, ge=0.0, description="encoder offsets: each joint reads its true angle plus up to this, rad"
    )

    @model_validator(mode="after")
    def _log_needs_positive(self) -> RandomizationRanges:
        if self.ground_friction_log_uniform and self.ground_friction[0] <= 0:
            raise ValueError(f"ground_friction: a log-uniform draw needs a positive low, got {self.ground_friction[0]}")
        if self.impratio is not None and self.impratio[0] < 1.0:
            raise ValueError(f"impratio: MuJoCo needs at least 1, got {self.impratio[0]}")
        if self.foot_contact_time_constant_s[0] <= 0:
            raise ValueError(
                f"foot_contact_time_constant_s: must be positive, got {self.foot_contact_time_constant_s[0]}"
            )
        return self


class ImuSpec(_Strict):
    site: str
    orientation_sensor: str
    gyro_sensor: str
    accelerometer_sensor: str


class SymmetrySpec(_Strict):
    name: str
    joint_mirror: list[str]
    joint_signs: list[int]
    vector_signs: list[int] = Field(min_length=3, max_length=3)
    pseudovector_signs: list[int] = Field(min_length=3, max_length=3)

    @field_validator("joint_signs", "vector_signs", "pseudovector_signs")
    @classmethod
    def _unit_signs(cls, signs: list[int]) -> list[int]:
        if any(s not in (-1, 1) for s in signs):
            raise ValueError(f"signs must be +1 or -1, got {signs}")
        return signs


class RobotDescription(_Strict):
    """Validated contents of config/robots/NAME.yaml."""

    name: str = Field(min_length=1)
    mjcf: str = Field(description="MJCF file, relative to the description file")
    base_body: str
    imu: ImuSpec
    feet: list[str] = Field(min_length=1)
    standing_keyframe: str
    nominal_base_height_m: float = Field(gt=0.0)
    physics_period_s: float = Field(gt=0.0, le=0.01)
    control_period_s: float = Field(gt=0.0, le=0.1)
    passive_kd: float = Field(ge=0.0)
    joint_defaults: JointGains
    joints: list[JointSpec] = Field(min_length=1)
    torque_speed_corner: float = Field(
        ge=0.0,
        lt=1.0,
        description="fraction of a joint's velocity limit up to which its motor gives full torque; above it "
        "the torque it can drive with falls linearly to zero at the velocity limit (a DC motor's line)",
    )
    symmetry: SymmetrySpec
    randomization: RandomizationRanges
    source: Path | None = Field(default=None, description="file this was loaded from")

    @model_validator(mode="before")
    @classmethod
    def _record_source(cls, data: Any, info: pydantic.ValidationInfo) -> Any:
        if isinstance(data, dict) and info.context and "source" in info.context:
            data = {**data, "source": info.context["source"]}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> RobotDescription:
        names = [j.name for j in self.joints]
        if len(set(names)) != len(names):
            raise ValueError(f"joints: duplicate joint names in {names}")
        if whole_steps(self.control_period_s, self.physics_period_s) is None:
            raise ValueError(
                f"control_period_s ({self.control_period_s}) must be a whole multiple of "
                f"physics_period_s ({self.physics_period_s})"
            )
        sym = self.symmetry
        for field, values in (("joint_mirror", sym.joint_mirror), ("joint_signs", sym.joint_signs)):
            if len(values) != len(names):
                raise ValueError(f"symmetry.{field}: has {len(values)} entries, joints has {len(names)}")
        unknown = [n for n in sym.joint_mirror if n not in names]
        if unknown:
            raise ValueError(f"symmetry.joint_mirror: unknown joints {unknown}")
        if sorted(sym.joint_mirror) != sorted(names):
            raise ValueError("symmetry.joint_mirror: must name every joint exactly once")
        self.mirror.check_involution()
        return self

    # --- derived arrays, in joint order -------------------------------------------------
    @property
    def num_joints(self) -> int:
        return len(self.joints)

    @cached_property
    def joint_names(self) -> tuple[str, ...]:
        return tuple(j.name for j in self.joints)

    def _array(self, values: list[float]) -> np.ndarray:
        array = np.asarray(values, dtype=np.float64)
        array.setflags(write=False)
        return array

    @cached_property
    def default_pose(self) -> np.ndarray:
        """Standing joint positions, rad, shape [num_joints]."""
        return self._array([j.default for j in self.joints])

    @cached_property
    def lower_limits(self) -> np.ndarray:
        return self._array([j.lower for j in self.joints])

    @cached_property
    def upper_limits(self) -> np.ndarray:
        return self._array([j.upper for j in self.joints])

    @cached_property
    def torque_limits(self) -> np.ndarray:
        return self._array([j.torque_limit for j in self.joints])

    @cached_property
    def velocity_limits(self) -> np.ndarray:
        return self._array([j.velocity_limit for j in self.joints])

    @cached_property
    def kp(self) -> np.ndarray:
        return self._array([self.joint_defaults.kp if j.kp is None else j.kp for j in self.joints])

    @cached_property
    def kd(self) -> np.ndarray:
        return self._array([self.joint_defaults.kd if j.kd is None else j.kd for j in self.joints])

    @cached_property
    def saturation_torques(self) -> np.ndarray:
        """Torque of each motor's torque-speed line at zero speed, N m, [num_joints]: the line
        reaches the torque limit at torque_speed_corner x the velocity limit."""
        return self._array([j.torque_limit / (1.0 - self.torque_speed_corner) for j in self.joints])

    @property
    def substeps(self) -> int:
        """Physics steps per control period (validated whole on load)."""
        steps = whole_steps(self.control_period_s, self.physics_period_s)
        assert steps is not None
        return steps

    @cached_property
    def mirror(self) -> MirrorSymmetry:
        """The left-right mirror as index permutation and sign flips."""
        index = {name: i for i, name in enumerate(j.name for j in self.joints)}
        return MirrorSymmetry(
            joint_permutation=np.array([index[n] for n in self.symmetry.joint_mirror]),
            joint_signs=np.asarray(self.symmetry.joint_signs, dtype=np.float64),
            vector_signs=np.asarray(self.symmetry.vector_signs, dtype=np.float64),
            pseudovector_signs=np.asarray(self.symmetry.pseudovector_signs, dtype=np.float64),
            leg_permutation=self._leg_permutation(index),
        )

    def _leg_permutation(self, index: dict[str, int]) -> np.ndarray:
        """Feet order -> the mirrored foot of each, from the joint mirror: a foot's leg is the
        LEG_ prefix of its name, and a leg's mirror is the leg its joints mirror onto."""
        legs = [foot.split("_")[0] for foot in self.feet]
        mirrored = []
        for leg in legs:
            joint = next((n for n in index if n.split("_")[0] == leg), None)
            if joint is None:
                raise ValueError(f"feet: no joint named {leg}_... for foot of leg {leg}")
            other = self.symmetry.joint_mirror[index[joint]].split("_")[0]
            if other not in legs:
                raise ValueError(f"symmetry: leg {leg} mirrors onto {other}, which has no foot in feet {self.feet}")
            mirrored.append(legs.index(other))
        return np.array(mirrored)

    def joint_index(self, name: str) -> int:
        """Index of joint ``name``; ValueError naming the known joints if absent."""
        try:
            return self.joint_names.index(name)
        except ValueError:
            raise ValueError(f"unknown joint {name!r}; joints of {self.name}: {list(self.joint_names)}") from None

    @property
    def mjcf_path(self) -> Path:
        base = self.source.parent if self.source else Path.cwd()
        return (base / self.mjcf).resolve()


def load_robot_description(name_or_path: str | Path) -> RobotDescription:
    """Load config/robots/NAME.yaml (or a path) and validate it.

    Raises memaug_common.errors.ConfigError naming the file and every invalid field.
    """
    path = resolve_config_file(name_or_path, "robots")
    return load_yaml_model(path, RobotDescription, "robot description")
