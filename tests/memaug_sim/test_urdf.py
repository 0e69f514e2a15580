"""The URDF generated from the robot description: an independent URDF library parses it and
its forward kinematics match MuJoCo's."""

from __future__ import annotations

import io

import mujoco
import numpy as np
import pytest
import yourdfpy

from memaug_common.description import load_robot_description
from memaug_sim.model import build_model
from memaug_sim.urdf import main, urdf_from_description

GO2 = load_robot_description("go2")


@pytest.fixture(scope="module")
def urdf() -> yourdfpy.URDF:
    return yourdfpy.URDF.load(io.StringIO(urdf_from_description(GO2)), load_meshes=False)


def test_joints_and_limits_are_the_descriptions(urdf: yourdfpy.URDF) -> None:
    assert urdf.actuated_joint_names == list(GO2.joint_names)
    for spec in GO2.joints:
        limit = urdf.joint_map[spec.name].limit
        assert (limit.lower, limit.upper, limit.effort, limit.velocity) == pytest.approx(
            (spec.lower, spec.upper, spec.torque_limit, spec.velocity_limit)
        )
    assert {"base", "imu", *GO2.feet} <= set(urdf.link_map)


def test_forward_kinematics_match_mujoco_to_a_millimetre(urdf: yourdfpy.URDF) -> None:
    model = build_model(GO2)
    data = mujoco.MjData(model)
    rng = np.random.default_rng(0)
    frames = [(foot, model.geom(foot).id, "geom") for foot in GO2.feet]
    frames += [(model.body(b).name, b, "body") for b in range(2, model.nbody)]
    worst_position, worst_rotation = 0.0, 0.0
    for _ in range(100):
        q = rng.uniform(GO2.lower_limits, GO2.upper_limits)
        data.qpos[:] = 0.0
        data.qpos[3] = 1.0  # base at the origin, level: its frame is the world's
        data.qpos[7:] = q
        mujoco.mj_kinematics(model, data)
        urdf.update_cfg(dict(zip(GO2.joint_names, q, strict=True)))
        for name, index, kind in frames:
            transform = urdf.get_transform(name, "base")
            position = data.geom_xpos[index] if kind == "geom" else data.xpos[index]
            worst_position = max(worst_position, float(np.abs(transform[:3, 3] - position).max()))
            if kind == "body":
                rotation = data.xmat[index].reshape(3, 3)
                worst_rotation = max(worst_rotation, float(np.abs(transform[:3, :3] - rotation).max()))
    assert worst_position < 1e-3 and worst_rotation < 1e-6


def test_the_command_prints_it_and_names_a_bad_robot(capsys: pytest.CaptureFixture) -> None:
    assert main(["go2"]) == 0
    assert capsys.readouterr().out.startswith('<?xml version="1.0"?>\n<robot name="go2">')
    assert main(["no_such_robot"]) == 2
    assert "no robots named 'no_such_robot'" in capsys.readouterr().err
