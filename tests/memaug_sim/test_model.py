"""The MuJoCo model built from the description: it compiles and agrees with the YAML."""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np
import pytest

from memaug_common.description import load_robot_description
from memaug_common.errors import ConfigError
from memaug_common.paths import config_dir
from memaug_sim.model import Actuation, ModelIndex, build_model


@pytest.mark.parametrize("actuation", list(Actuation))
def test_model_compiles_with_one_actuator_per_joint(actuation: Actuation) -> None:
    d = load_robot_description("go2")
    model = build_model(d, actuation)
    index = ModelIndex.of(model, d)
    assert model.nu == 12
    assert model.opt.timestep == pytest.approx(d.physics_period_s)
    np.testing.assert_allclose(model.actuator_forcerange[index.actuators, 1], d.torque_limits)
    assert 14.5 < model.body_subtreemass[index.base_body] < 15.5  # Go2: about 15 kg


def test_standing_keyframe_is_the_default_pose_with_feet_on_the_floor() -> None:
    d = load_robot_description("go2")
    model = build_model(d)
    index = ModelIndex.of(model, d)
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, index.keyframe)
    mujoco.mj_forward(model, data)
    np.testing.assert_allclose(data.qpos[index.qpos], d.default_pose)
    foot_heights = data.geom_xpos[index.feet_geoms, 2] - model.geom_size[index.feet_geoms, 0]
    assert np.all(np.abs(foot_heights) < 0.006)


def test_a_textureless_model_is_smaller_and_steps_identically() -> None:
    d = load_robot_description("go2")
    full, bare = build_model(d, Actuation.POSITION), build_model(d, Actuation.POSITION, textures=False)
    assert full.ntex > 0 and bare.ntex == 0
    assert bare.nbuffer < full.nbuffer / 10
    states = []
    for model in (full, bare):
        data = mujoco.MjData(model)
        mujoco.mj_resetDataKeyframe(model, data, ModelIndex.of(model, d).keyframe)
        data.ctrl[:] = d.default_pose + 0.2
        for _ in range(200):
            mujoco.mj_step(model, data)
        states.append(np.concatenate([data.qpos, data.qvel]))
    np.testing.assert_array_equal(states[0], states[1])


def test_mjcf_joint_renamed_is_a_named_error(tmp_path: Path) -> None:
    d = load_robot_description("go2")
    xml = (config_dir() / "robots" / "go2.xml").read_text().replace('"FR_calf_joint"', '"FR_knee_joint"')
    (tmp_path / "go2.xml").write_text(xml)
    moved = d.model_copy(update={"source": tmp_path / "go2.yaml"})
    with pytest.raises(ConfigError, match=r"joints \['FR_calf_joint'\] not in MJCF"):
        build_model(moved)


def test_missing_mjcf_is_a_named_error(tmp_path: Path) -> None:
    d = load_robot_description("go2").model_copy(update={"source": tmp_path / "go2.yaml"})
    with pytest.raises(ConfigError, match="mjcf file not found"):
        build_model(d)
