"""Loading and validating exported policies: every way a model file can be wrong."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from memaug_common.description import load_robot_description
from memaug_policy.model import ModelError, check_compatible, load_policy

GO2 = load_robot_description("go2")


def test_exported_model_passes_the_checker_and_describes_itself(gru_policy: Path) -> None:
    onnx.checker.check_model(onnx.load(str(gru_policy)))
    model = load_policy(gru_policy)
    check_compatible(model, GO2)
    meta = model.metadata
    assert meta.joint_names == GO2.joint_names
    assert meta.recurrent.cell == "gru" and meta.recurrent.hidden == 32
    assert [t["name"] for t in meta.observation_terms][:3] == [
        "base_angular_velocity",
        "projected_gravity",
        "velocity_command",
    ]
    assert model.obs_dim == 45 and model.act_dim == 12
    # memaug_train writes format 2 without the optional keys: format 1's action map, unchanged
    assert meta.format_version == 2 and "actions" not in meta.raw
    assert meta.actions.raw_clip is not None and np.all(meta.actions.raw_clip == [-10.0, 10.0])
    np.testing.assert_array_equal(meta.actions.offset, GO2.default_pose)
    assert meta.actions.target_clip is None and meta.actions.last_action == "raw"


class TestUnusableFiles:
    def test_missing(self, tmp_path: Path) -> None:
        with pytest.raises(ModelError, match="not found"):
            load_policy(tmp_path / "absent.onnx")

    def test_corrupt(self, tmp_path: Path) -> None:
        path = tmp_path / "corrupt.onnx"
        path.write_bytes(b"\x08\x07this is not a protobuf" * 10)
        with pytest.raises(ModelError, match="not a loadable ONNX model"):
            load_policy(path)

    def test_truncated(self, tmp_path: Path, gru_policy: Path) -> None:
        path = tmp_path / "truncated.onnx"
        path.write_bytes(gru_policy.read_bytes()[: gru_policy.stat().st_size // 2])
        with pytest.raises(ModelError, match="not a loadable ONNX model"):
            load_policy(path)

    def test_wrong_input_names(self, tmp_path: Path, gru_policy: Path) -> None:
        proto = onnx.load(str(gru_policy))
        path = tmp_path / "plain.onnx"
        torch.onnx.export(
            torch.nn.Linear(45, 12),
            (torch.zeros(1, 45),),
            str(path),
            input_names=["x"],
            output_names=["y"],
            dynamo=False,
        )
        plain = onnx.load(str(path))
        for prop in proto.metadata_props:
            plain.metadata_props.add(key=prop.key, value=prop.value)
        onnx.save(plain, str(path))
        with pytest.raises(ModelError, match=r"inputs are \['x'\], expected \['obs', 'h_in'\]"):
            load_policy(path)

    def test_missing_metadata(self, tmp_path: Path, gru_policy: Path) -> None:
        proto = onnx.load(str(gru_policy))
        kept = [p for p in proto.metadata_props if p.key not in ("kp", "control_period_s")]
        del proto.metadata_props[:]
        proto.metadata_props.extend(kept)
        path = tmp_path / "nometa.onnx"
        onnx.save(proto, str(path))
        with pytest.raises(ModelError, match=r"lacks \['kp', 'control_period_s'\]"):
            load_policy(path)


class TestMismatchWithTheRobot:
    def test_joint_order_of_a_format_1_file(self, export_policy) -> None:
        """Format 1 had no joint map: another order is a mismatch, not a map."""
        swapped = list(GO2.joint_names)
        swapped[0], swapped[3] = swapped[3], swapped[0]
        path, _ = export_policy(metadata_overrides={"joint_names": json.dumps(swapped), "format_version": "1"})
        with pytest.raises(ModelError, match="joint order: model"):
            check_compatible(load_policy(path), GO2)

    def test_format_2_joint_names_are_a_joint_map(self, export_policy) -> None:
        """Format 2: joint_names is the policy's order, and per-joint values follow it."""
        order = [3, 4, 5, 0, 1, 2, 9, 10, 11, 6, 7, 8]
        names = [GO2.joint_names[i] for i in order]
        path, _ = export_policy(
            metadata_overrides={
                "joint_names": json.dumps(names),
                "default_joint_positions": json.dumps(GO2.default_pose[order].tolist()),
            }
        )
        model = load_policy(path)
        check_compatible(model, GO2)
        assert model.metadata.joint_map(GO2).tolist() == order

    def test_a_joint_the_robot_does_not_have(self, export_policy) -> None:
        names = list(GO2.joint_names)
        names[2] = "FR_knee_joint"
        path, _ = export_policy(metadata_overrides={"joint_names": json.dumps(names)})
        with pytest.raises(ModelError, match=r"the robot has no joint \['FR_knee_joint'\]"):
            check_compatible(load_policy(path), GO2)

    def test_default_pose_outside_the_range_and_a_period_the_bridge_cannot_run(self, export_policy) -> None:
        defaults = GO2.default_pose.copy()
        defaults[2] = -3.0
        path, _ = export_policy(
            metadata_overrides={
                "default_joint_positions": json.dumps(defaults.tolist()),
                "control_period_s": json.dumps(0.0203),
            }
        )
        with pytest.raises(ModelError) as info:
            check_compatible(load_policy(path), GO2)
        assert "outside the robot's range: FR_calf_joint -3.000" in str(info.value)
        assert "not a whole number of the bridge's 0.002 s periods" in str(info.value)

    def test_observation_size_that_does_not_match_the_layout(self, export_policy) -> None:
        path, _ = export_policy(
            metadata_overrides={
                "observation_terms": json.dumps(
                    [{"name": "base_angular_velocity", "size": 3, "scale": [1.0] * 3, "history": 2}]
                )
            }
        )
        with pytest.raises(ModelError, match="network reads 45 observation values, the described layout has 6"):
            load_policy(path)

    def test_a_term_the_robot_cannot_measure(self, export_policy) -> None:
        path, _ = export_policy(
            metadata_overrides={
                "observation_terms": json.dumps([{"name": "height_scan", "size": 187, "scale": [1.0] * 187}])
            }
        )
        with pytest.raises(ModelError, match="observation term 'height_scan' is not one memaug can measure"):
            load_policy(path)

    def test_joint_count_gains_and_period_all_named(self, export_policy) -> None:
        path, _ = export_policy(
            metadata_overrides={
                "kp": json.dumps([20.0] * 12),
                "control_period_s": json.dumps(0.01),
                "robot": json.dumps("go1"),
            }
        )
        with pytest.raises(ModelError) as info:
            check_compatible(load_policy(path), GO2)
        text = str(info.value)
        assert "robot: model is for 'go1'" in text
        assert "kp: model [20.0" in text
        assert "control period: model 0.01 s vs description 0.02 s" in text

    def test_unsupported_format_version(self, export_policy) -> None:
        path, _ = export_policy(metadata_overrides={"format_version": "99"})
        with pytest.raises(ModelError, match="format_version 99"):
            load_policy(path)

    def test_a_malformed_velocity_loop_is_named(self, tmp_path: Path, gru_policy: Path) -> None:
        # Written into a file after export: the exporter itself refuses such a loop.
        bad = {"method": "test", "velocity_feedback": {"gain": -1.0, "time_constant_s": 0.5, "max_fraction": 0.4}}
        proto = onnx.load(str(gru_policy))
        for prop in proto.metadata_props:
            if prop.key == "provenance":
                prop.value = json.dumps(bad)
        path = tmp_path / "badloop.onnx"
        onnx.save(proto, str(path))
        with pytest.raises(ModelError, match="malformed metadata.*velocity feedback gain must be in"):
            load_policy(path)
