"""TF frames of the robot description: the chain they make is the URDF's, read by an independent
URDF library, and a robot without odometry stands on its lowest foot."""

from __future__ import annotations

import io

import mujoco
import numpy as np
import pytest
import yourdfpy

from memaug_common.description import load_robot_description
from memaug_sim.frames import RobotFrames, Transform
from memaug_sim.urdf import urdf_from_description

GO2 = load_robot_description("go2")


@pytest.fixture(scope="module")
def frames() -> RobotFrames:
    return RobotFrames(GO2)


def _matrix(t: Transform) -> np.ndarray:
    m = np.eye(4)
    r = np.empty(9)
    mujoco.mju_quat2Mat(r, t.rotation)
    m[:3, :3], m[:3, 3] = r.reshape(3, 3), t.translation
    return m


def _in_base(transforms: list[Transform], frame: str) -> np.ndarray:
    """Compose the tree's transforms from the base down to ``frame``."""
    by_child = {t.child: t for t in transforms}
    pose = np.eye(4)
    while frame != "base":
        t = by_child[frame]
        pose = _matrix(t) @ pose
        frame = t.parent
    return pose


def test_every_urdf_link_is_a_frame_with_the_urdfs_parent(frames: RobotFrames) -> None:
    urdf = yourdfpy.URDF.load(io.StringIO(urdf_from_description(GO2)), load_meshes=False)
    transforms = frames.static_transforms() + frames.moving_transforms(np.zeros(12))
    parents = {t.child: t.parent for t in transforms}
    assert set(parents) == set(urdf.link_map) - {"base"}
    for joint in urdf.robot.joints:
        assert parents[joint.child] == joint.parent
    moving = {t.child for t in frames.moving_transforms(np.zeros(12))}
    assert moving == {j.child for j in urdf.robot.joints if j.type == "revolute"}


def test_frames_match_the_urdfs_forward_kinematics_for_random_joint_angles(frames: RobotFrames) -> None:
    urdf = yourdfpy.URDF.load(io.StringIO(urdf_from_description(GO2)), load_meshes=False)
    rng = np.random.default_rng(1)
    worst = 0.0
    for _ in range(50):
        q = rng.uniform(GO2.lower_limits, GO2.upper_limits)
        urdf.update_cfg(dict(zip(GO2.joint_names, q, strict=True)))
        transforms = frames.static_transforms() + frames.moving_transforms(q)
        for link in urdf.link_map:
            if link != "base":
                worst = max(worst, float(np.abs(_in_base(transforms, link) - urdf.get_transform(link, "base")).max()))
    assert worst < 1e-6


def test_a_robot_without_odometry_stands_on_its_lowest_foot(frames: RobotFrames) -> None:
    model, data = frames.model, mujoco.MjData(frames.model)
    q = np.array(GO2.default_pose)
    pitch = np.array([np.cos(0.1), 0.0, np.sin(0.1), 0.0])  # 11.5 degrees nose down
    position, quat = frames.base_pose_from_attitude(q, pitch)
    np.testing.assert_allclose(quat, pitch, atol=1e-12)  # the Go2's IMU frame is the base's
    data.qpos[:3], data.qpos[3:7], data.qpos[7:] = position, quat, q
    mujoco.mj_kinematics(model, data)
    feet = [model.geom(f).id for f in GO2.feet]
    soles = data.geom_xpos[feet, 2] - model.geom_size[feet, 0]
    assert soles.min() == pytest.approx(0.0, abs=1e-9)
    assert soles.max() > 0.01  # pitched: the rear feet are in the air
    assert 0.25 < position[2] < 0.40


def test_bad_joint_positions_and_attitudes_are_named(frames: RobotFrames) -> None:
    with pytest.raises(ValueError, match="joint positions"):
        frames.moving_transforms(np.full(12, np.nan))
    with pytest.raises(ValueError, match="joint positions"):
        frames.moving_transforms(np.zeros(11))
    with pytest.raises(ValueError, match="IMU orientation"):
        frames.base_pose_from_attitude(np.zeros(12), np.zeros(4))
