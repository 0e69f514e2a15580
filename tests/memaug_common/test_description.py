"""The robot description: the single source of truth, and every way it can be wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from memaug_common.description import load_robot_description
from memaug_common.errors import ConfigError
from memaug_common.paths import config_dir


@pytest.fixture
def go2_raw() -> dict:
    return yaml.safe_load((config_dir() / "robots" / "go2.yaml").read_text())


def write(tmp_path: Path, raw: dict) -> Path:
    path = tmp_path / "robot.yaml"
    path.write_text(yaml.safe_dump(raw))
    # The MJCF is named relative to the description file.
    (tmp_path / "go2.xml").write_text((config_dir() / "robots" / "go2.xml").read_text())
    return path


class TestGo2:
    def test_joint_order_is_the_sdk_motor_order(self) -> None:
        d = load_robot_description("go2")
        legs = ["FR", "FL", "RR", "RL"]
        parts = ["hip", "thigh", "calf"]
        assert d.joint_names == tuple(f"{leg}_{part}_joint" for leg in legs for part in parts)

    def test_arrays_have_one_entry_per_joint_and_are_read_only(self) -> None:
        d = load_robot_description("go2")
        for array in (d.default_pose, d.lower_limits, d.upper_limits, d.torque_limits, d.kp, d.kd):
            assert array.shape == (12,)
            with pytest.raises(ValueError):
                array[0] = 1.0
        assert np.all(d.lower_limits < d.default_pose) and np.all(d.default_pose < d.upper_limits)
        assert d.substeps == 10

    def test_mirror_twice_is_identity(self) -> None:
        mirror = load_robot_description("go2").mirror
        rng = np.random.default_rng(0)
        joints = rng.normal(size=(5, 12))
        vectors = rng.normal(size=(5, 3))
        np.testing.assert_array_equal(mirror.joints(mirror.joints(joints)), joints)
        np.testing.assert_array_equal(mirror.vector(mirror.vector(vectors)), vectors)
        np.testing.assert_array_equal(mirror.pseudovector(mirror.pseudovector(vectors)), vectors)

    def test_mirror_swaps_left_and_right_legs(self) -> None:
        d = load_robot_description("go2")
        onehot = np.zeros(12)
        onehot[d.joint_index("FR_calf_joint")] = 1.0
        mirrored = d.mirror.joints(onehot)
        assert mirrored[d.joint_index("FL_calf_joint")] == 1.0
        assert np.count_nonzero(mirrored) == 1
        hip = np.zeros(12)
        hip[d.joint_index("RL_hip_joint")] = 0.3
        assert d.mirror.joints(hip)[d.joint_index("RR_hip_joint")] == -0.3

    def test_default_pose_is_mirror_symmetric(self) -> None:
        d = load_robot_description("go2")
        np.testing.assert_allclose(d.mirror.joints(d.default_pose), d.default_pose)


class TestBadDescriptions:
    def test_unknown_key_is_named(self, tmp_path: Path, go2_raw: dict) -> None:
        go2_raw["kp_typo"] = 3
        with pytest.raises(ConfigError, match="kp_typo"):
            load_robot_description(write(tmp_path, go2_raw))

    def test_symmetry_with_wrong_length_is_named(self, tmp_path: Path, go2_raw: dict) -> None:
        go2_raw["symmetry"]["joint_signs"] = go2_raw["symmetry"]["joint_signs"][:-1]
        with pytest.raises(ConfigError, match="symmetry.joint_signs: has 11 entries"):
            load_robot_description(write(tmp_path, go2_raw))

    def test_symmetry_that_is_not_an_involution_is_refused(self, tmp_path: Path, go2_raw: dict) -> None:
        mirror = go2_raw["symmetry"]["joint_mirror"]
        # FR->FL, FL->RL, RL->FR ... : a permutation, but mirroring twice is not the identity.
        mirror[0:3], mirror[3:6], mirror[9:12] = mirror[9:12], mirror[0:3], mirror[3:6]
        with pytest.raises(ConfigError, match="mirroring a joint vector twice"):
            load_robot_description(write(tmp_path, go2_raw))

    def test_unknown_joint_in_symmetry_is_named(self, tmp_path: Path, go2_raw: dict) -> None:
        go2_raw["symmetry"]["joint_mirror"][0] = "XX_hip_joint"
        with pytest.raises(ConfigError, match="XX_hip_joint"):
            load_robot_description(write(tmp_path, go2_raw))

    def test_default_outside_limits_is_named(self, tmp_path: Path, go2_raw: dict) -> None:
        go2_raw["joints"][2]["default"] = 0.0
        with pytest.raises(ConfigError, match=r"joints\.2.*FR_calf_joint: default 0.0 outside"):
            load_robot_description(write(tmp_path, go2_raw))

    def test_control_period_not_a_multiple_of_physics(self, tmp_path: Path, go2_raw: dict) -> None:
        go2_raw["control_period_s"] = 0.021
        with pytest.raises(ConfigError, match="whole multiple"):
            load_robot_description(write(tmp_path, go2_raw))

    def test_malformed_yaml(self, tmp_path: Path) -> None:
        path = tmp_path / "broken.yaml"
        path.write_text("name: go2\njoints: [\n")
        with pytest.raises(ConfigError, match="not valid YAML"):
            load_robot_description(path)

    def test_missing_file_and_unknown_name(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="not found"):
            load_robot_description(tmp_path / "absent.yaml")
        with pytest.raises(ConfigError, match="no robots named 'spot'.*go2"):
            load_robot_description("spot")
