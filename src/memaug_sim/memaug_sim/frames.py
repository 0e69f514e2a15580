"""The robot's TF frames: every link relative to its parent, as robot_state_publisher gives them.

One kinematic source for TF, live and in bags: the compiled MuJoCo model of the robot
description, the same one the URDF (memaug_sim.urdf) is generated from, so the frames a viewer
draws from /tf are the URDF's links and the simulator's bodies. Joint transforms come from
MuJoCo's own forward kinematics (mj_kinematics), not a second hand-written chain.

Frames (REP 105): ``odom`` (world-fixed) -> the base link -> one link per body -> the fixed
``imu`` and foot frames of the URDF. Quaternions are (w, x, y, z) here; the node converts.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from memaug_common.description import RobotDescription
from memaug_sim.model import build_model

IDENTITY = np.array([1.0, 0.0, 0.0, 0.0])


@dataclass(frozen=True)
class Transform:
    """Pose of frame ``child`` in frame ``parent``."""

    parent: str
    child: str
    translation: np.ndarray  # [3] m, child origin in the parent frame
    rotation: np.ndarray  # [4] unit quaternion (w, x, y, z), child axes in the parent frame


def _relative(parent_pos: np.ndarray, parent_quat: np.ndarray, pos: np.ndarray, quat: np.ndarray) -> tuple:
    """Pose (translation [3], quaternion [4]) of a frame given in world coordinates, in a parent frame."""
    inverse = np.empty(4)
    mujoco.mju_negQuat(inverse, parent_quat)
    translation = np.empty(3)
    mujoco.mju_rotVecQuat(translation, pos - parent_pos, inverse)
    rotation = np.empty(4)
    mujoco.mju_mulQuat(rotation, inverse, quat)
    return translation, rotation


def robot_bodies(model: mujoco.MjModel, base: int) -> list[int]:
    """The base and every body below it (MuJoCo body ids, tree order): the robot's links."""
    return [b for b in range(1, model.nbody) if b == base or model.body_rootid[b] == base]


def sensor_frames(model: mujoco.MjModel, description: RobotDescription) -> list[Transform]:
    """The robot's fixed frames that are not bodies: the IMU site and each foot (the centre of
    its sphere, axes of its body), each in the body that carries it. The URDF and TF both."""
    imu = model.site(description.imu.site)
    frames = [Transform(model.body(int(imu.bodyid[0])).name, "imu", np.array(imu.pos), np.array(imu.quat))]
    for foot in description.feet:
        geom = model.geom(foot)
        frames.append(Transform(model.body(int(geom.bodyid[0])).name, foot, np.array(geom.pos), IDENTITY))
    return frames


class RobotFrames:
    """TF transforms of one robot description.

    ``static_transforms()`` are the fixed frames (/tf_static); ``moving_transforms(q)`` the
    jointed links for joint positions ``q`` [J] rad in the description's joint order (/tf);
    ``base_transform(...)`` is odom -> base from a pose, and ``base_pose_from_attitude(...)``
    makes that pose on a robot without odometry: the measured attitude, and the base height
    that puts the lowest foot on the ground.
    """

    def __init__(self, description: RobotDescription, odom_frame: str = "odom") -> None:
        self.model = build_model(description)
        self.data = mujoco.MjData(self.model)
        self.odom_frame = odom_frame
        model = self.model
        self.base = model.body(description.base_body).id
        self.base_frame = model.body(self.base).name
        self._base_qpos = int(model.jnt_qposadr[model.body_jntadr[self.base]])
        self._joint_qpos = np.array([model.jnt_qposadr[model.joint(name).id] for name in description.joint_names])
        links = [b for b in robot_bodies(model, self.base) if b != self.base]
        self._jointed = [b for b in links if model.body_jntnum[b] > 0]
        self._static = [self._body_fixed(b) for b in links if model.body_jntnum[b] == 0]
        self._static += sensor_frames(model, description)
        self._imu_quat = np.array(model.site(description.imu.site).quat, dtype=float)
        self._feet = [model.geom(foot).id for foot in description.feet]

    def _body_fixed(self, body: int) -> Transform:
        parent = self.model.body(int(self.model.body_parentid[body])).name
        pos, quat = self.model.body_pos[body], self.model.body_quat[body]
        return Transform(parent, self.model.body(body).name, np.array(pos), np.array(quat))

    @property
    def joint_count(self) -> int:
        return len(self._joint_qpos)

    def static_transforms(self) -> list[Transform]:
        """The fixed frames: links without a joint, the IMU and the feet."""
        return list(self._static)

    def _kinematics(self, joint_positions: np.ndarray, base_quat: np.ndarray = IDENTITY) -> None:
        if joint_positions.shape != (self.joint_count,) or not np.all(np.isfinite(joint_positions)):
            raise ValueError(f"joint positions: expected {self.joint_count} finite values, got {joint_positions}")
        self.data.qpos[self._base_qpos : self._base_qpos + 3] = 0.0
        self.data.qpos[self._base_qpos + 3 : self._base_qpos + 7] = base_quat
        self.data.qpos[self._joint_qpos] = joint_positions
        mujoco.mj_kinematics(self.model, self.data)

    def moving_transforms(self, joint_positions: np.ndarray) -> list[Transform]:
        """Each jointed link in its parent link for joint positions [J] rad (description order)."""
        self._kinematics(np.asarray(joint_positions, dtype=float))
        x, q, parents = self.data.xpos, self.data.xquat, self.model.body_parentid
        transforms = []
        for body in self._jointed:
            parent = int(parents[body])
            translation, rotation = _relative(x[parent], q[parent], x[body], q[body])
            names = self.model.body(parent).name, self.model.body(body).name
            transforms.append(Transform(*names, translation, rotation))
        return transforms

    def base_transform(self, position: np.ndarray, quat_wxyz: np.ndarray) -> Transform:
        """odom -> base for a base pose: position [3] m in odom, orientation (w, x, y, z)."""
        return Transform(self.odom_frame, self.base_frame, np.asarray(position, float), np.asarray(quat_wxyz, float))

    def base_pose_from_attitude(
        self, joint_positions: np.ndarray, imu_quat_wxyz: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The base pose a robot without odometry shows: orientation from its IMU (the IMU frame's
        attitude, turned into the base's through the URDF's imu frame), standing over the odom
        origin at the height that puts its lowest foot on the ground. Returns (position [3] m,
        quaternion (w, x, y, z))."""
        imu = np.asarray(imu_quat_wxyz, dtype=float)
        if imu.shape != (4,) or not np.all(np.isfinite(imu)) or np.linalg.norm(imu) < 0.5:
            raise ValueError(f"IMU orientation: expected a unit quaternion, got {imu}")
        site_inverse = np.empty(4)
        mujoco.mju_negQuat(site_inverse, self._imu_quat)
        base_quat = np.empty(4)
        mujoco.mju_mulQuat(base_quat, imu / np.linalg.norm(imu), site_inverse)
        self._kinematics(np.asarray(joint_positions, dtype=float), base_quat)
        sole = self.data.geom_xpos[self._feet, 2] - self.model.geom_size[self._feet, 0]
        return np.array([0.0, 0.0, -float(np.min(sole))]), base_quat
