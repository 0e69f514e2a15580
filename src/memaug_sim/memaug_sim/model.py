"""Build the MuJoCo model from a robot description, and index it in description order.

The MJCF holds geometry, inertia and sensors only; actuators are added here from the
description, so gains and torque limits are written once (config/robots/NAME.yaml).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import mujoco
import numpy as np

from memaug_common.description import RobotDescription
from memaug_common.errors import ConfigError
from memaug_sim.terrain import FLAT, Terrain, add_terrain


class Actuation(enum.Enum):
    """How ctrl drives the joints.

    TORQUE: ctrl is joint torque, N m (the sim bridge computes PD itself, so it can follow
    velocity targets and feed-forward effort). POSITION: ctrl is a position target, rad,
    with the description's kp/kd as MuJoCo position actuators (the training environment,
    which steps many robots in C through mujoco.rollout). Both saturate at the torque limit.
    """

    TORQUE = "torque"
    POSITION = "position"


def lock_equality_name(joint: str) -> str:
    """Name of the (initially inactive) equality that locks ``joint`` for the locked fault."""
    return f"lock_{joint}"


def build_model(
    description: RobotDescription,
    actuation: Actuation = Actuation.TORQUE,
    *,
    textures: bool = True,
    terrain: Terrain = FLAT,
) -> mujoco.MjModel:
    """Compile the description's MJCF with actuators and lock constraints added.

    ``textures=False`` drops every texture (materials keep their colour): physics unchanged,
    and the model shrinks from ~830 kB to ~45 kB for the Go2, which is what lets the training
    environment keep one model per robot for hundreds of robots.

    Raises ConfigError naming the field when the description and the MJCF disagree.
    """
    path = description.mjcf_path
    if not path.is_file():
        raise ConfigError(f"robot description {description.source}: mjcf file not found: {path}")
    try:
        spec = mujoco.MjSpec.from_file(str(path))
    except ValueError as exc:
        raise ConfigError(f"cannot parse MJCF {path}: {exc}") from exc
    _check_names(description, spec)
    if not textures:
        for texture in list(spec.textures):
            spec.delete(texture)
        for material in spec.materials:
            material.textures = [""] * len(material.textures)
    spec.option.timestep = description.physics_period_s
    add_terrain(spec, terrain)
    for i, joint in enumerate(description.joints):
        actuator = spec.add_actuator(name=joint.name, target=joint.name, trntype=mujoco.mjtTrn.mjTRN_JOINT)
        if actuation is Actuation.TORQUE:
            actuator.set_to_motor()
            actuator.ctrllimited = True
            actuator.ctrlrange = [-joint.torque_limit, joint.torque_limit]
        else:
            actuator.set_to_position(kp=float(description.kp[i]), kv=float(description.kd[i]))
            actuator.ctrllimited = True
            actuator.ctrlrange = [joint.lower, joint.upper]
        actuator.forcelimited = True
        actuator.forcerange = [-joint.torque_limit, joint.torque_limit]
        # Stiffest stable constraint (time constant = 2 physics steps): a jammed gearbox
        # does not creep under the motor's full torque.
        spec.add_equality(
            name=lock_equality_name(joint.name),
            type=mujoco.mjtEq.mjEQ_JOINT,
            name1=joint.name,
            active=False,
            solref=[2 * description.physics_period_s, 1.0],
            solimp=[0.99, 0.999, 0.001, 0.5, 2.0],
        )
    return spec.compile()


def _check_names(description: RobotDescription, spec: mujoco.MjSpec) -> None:
    src = description.source
    mjcf_joints = [j.name for j in spec.joints if j.type != mujoco.mjtJoint.mjJNT_FREE]
    missing = [n for n in description.joint_names if n not in mjcf_joints]
    if missing:
        raise ConfigError(f"robot description {src}: joints {missing} not in MJCF {description.mjcf_path}")
    extra = [n for n in mjcf_joints if n not in description.joint_names]
    if extra:
        raise ConfigError(f"robot description {src}: MJCF joints {extra} are missing from joints")
    if mjcf_joints != list(description.joint_names):
        raise ConfigError(
            f"robot description {src}: joints order {list(description.joint_names)} differs from "
            f"the MJCF's {mjcf_joints}"
        )
    checks = [
        ("base_body", [description.base_body], {b.name for b in spec.bodies}),
        ("imu.site", [description.imu.site], {s.name for s in spec.sites}),
        ("feet", description.feet, {g.name for g in spec.geoms}),
        ("standing_keyframe", [description.standing_keyframe], {k.name for k in spec.keys}),
        (
            "imu sensors",
            [description.imu.orientation_sensor, description.imu.gyro_sensor, description.imu.accelerometer_sensor],
            {s.name for s in spec.sensors},
        ),
    ]
    for field, names, known in checks:
        absent = [n for n in names if n not in known]
        if absent:
            raise ConfigError(f"robot description {src}: {field} {absent} not found in MJCF {description.mjcf_path}")


@dataclass(frozen=True)
class ModelIndex:
    """Addresses into MjModel/MjData arrays, in description joint order ([num_joints] ints)."""

    qpos: np.ndarray
    qvel: np.ndarray
    actuators: np.ndarray
    lock_equalities: np.ndarray
    base_body: int
    feet_geoms: np.ndarray
    quat_sensor: slice
    gyro_sensor: slice
    acc_sensor: slice
    keyframe: int

    @classmethod
    def of(cls, model: mujoco.MjModel, description: RobotDescription) -> ModelIndex:
        def sensor(name: str) -> slice:
            sid = model.sensor(name).id
            start = int(model.sensor_adr[sid])
            return slice(start, start + int(model.sensor_dim[sid]))

        joints = [model.joint(n) for n in description.joint_names]
        return cls(
            qpos=np.array([int(j.qposadr[0]) for j in joints]),
            qvel=np.array([int(j.dofadr[0]) for j in joints]),
            actuators=np.array([model.actuator(n).id for n in description.joint_names]),
            lock_equalities=np.array([model.equality(lock_equality_name(n)).id for n in description.joint_names]),
            base_body=model.body(description.base_body).id,
            feet_geoms=np.array([model.geom(n).id for n in description.feet]),
            quat_sensor=sensor(description.imu.orientation_sensor),
            gyro_sensor=sensor(description.imu.gyro_sensor),
            acc_sensor=sensor(description.imu.accelerometer_sensor),
            keyframe=model.key(description.standing_keyframe).id,
        )
