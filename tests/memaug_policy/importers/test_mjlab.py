"""mjlab: an ONNX file whose metadata_props describe joints, gains, default pose, action
scale and observation names, completed by --contract (period, scales), imports and runs as
mjlab's velocity task runs it.

The oracle is written from mjlab's exporter's documented metadata and its velocity task's
observation (terms in observation_names order, joint terms in joint_names order, relative
to the default pose; q* = default + scale * a), not from the importer.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import yaml

from memaug_common.description import load_robot_description
from memaug_policy.importers import PolicyImportError, import_policy

#: MuJoCo's depth-first joint order of mjlab's Go2: FL, FR, RL, RR legs.
JOINTS = [f"{leg}_{part}_joint" for leg in ("FL", "FR", "RL", "RR") for part in ("hip", "thigh", "calf")]
DEFAULT = [0.1, 0.9, -1.8, -0.1, 0.9, -1.8, 0.1, 0.9, -1.8, -0.1, 0.9, -1.8]
STIFFNESS = [27.4, 27.4, 41.9] * 4
DAMPING = [0.87, 0.87, 1.33] * 4
ACTION_SCALE = [0.216, 0.216, 0.271] * 4
NAMES = ["base_lin_vel", "base_ang_vel", "projected_gravity", "joint_pos", "joint_vel", "actions", "command"]
SIZES = {"joint_pos": 12, "joint_vel": 12, "actions": 12}
SCALES = {"base_ang_vel": 0.25, "joint_vel": 0.05}  # given in the contract file (mjlab does not store them)
OBS_DIM = sum(SIZES.get(name, 3) for name in NAMES)

CONTRACT = {
    "control_period_s": 0.02,
    "command_ranges": {"vx": [-1.0, 1.0], "vy": [-1.0, 1.0], "yaw_rate": [-0.5, 0.5]},
    "observations": [
        {"term": "base_linear_velocity"},
        {"term": "base_angular_velocity", "scale": 0.25},
        {"term": "projected_gravity"},
        {"term": "joint_position"},
        {"term": "joint_velocity", "scale": 0.05},
        {"term": "last_action"},
        {"term": "velocity_command"},
    ],
}


def csv(values: list) -> str:
    """mjlab's list_to_csv_str: numbers with 3 decimals, joined by commas."""
    return ",".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in values)


def write_mjlab_onnx(path: Path, source_onnx, encode=csv) -> None:
    """Metadata as mjlab's exporter attaches it: CSV strings, or JSON in newer versions."""
    source_onnx(path, OBS_DIM, "none")
    proto = onnx.load(str(path))
    for key, value in {
        "run_path": "someone/mjlab/abc123",
        "joint_names": encode(JOINTS),
        "joint_stiffness": encode(STIFFNESS),
        "joint_damping": encode(DAMPING),
        "default_joint_pos": encode(DEFAULT),
        "command_names": encode(["twist"]),
        "observation_names": encode(NAMES),
        "action_scale": encode(ACTION_SCALE),
    }.items():
        proto.metadata_props.add(key=key, value=value)
    onnx.save(proto, str(path))


class MjlabOracle:
    def __init__(self, network: Path, sdk_names: tuple[str, ...], gravity) -> None:
        self.session = ort.InferenceSession(str(network), providers=["CPUExecutionProvider"])
        self.sdk = np.array([sdk_names.index(name) for name in JOINTS])
        self.gravity = gravity

    def reset(self) -> None:
        self.last_action = np.zeros(12)

    def step(self, q, dq, gyro, quat, command, lin_vel):
        values = {
            "base_lin_vel": lin_vel,
            "base_ang_vel": gyro,
            "projected_gravity": self.gravity(quat),
            "joint_pos": q[self.sdk] - np.array(DEFAULT),
            "joint_vel": dq[self.sdk],
            "actions": self.last_action,
            "command": command,
        }
        obs = np.concatenate([np.asarray(values[n], dtype=np.float64) * SCALES.get(n, 1.0) for n in NAMES])
        obs = obs.astype(np.float32)
        action = self.session.run(["actions"], {"obs": obs[None]})[0][0].astype(np.float64)
        self.last_action = action
        motors = np.empty(12)
        motors[self.sdk] = np.array(DEFAULT) + np.array(ACTION_SCALE) * action
        return obs, action, motors


@pytest.mark.parametrize("encode", [csv, json.dumps], ids=["csv", "json"])
def test_imported_policy_acts_as_mjlab_over_240_ticks_with_resets(
    tmp_path: Path, go2, run, source_onnx, drive_controller, gravity, encode, assert_follows_oracle
) -> None:
    network = tmp_path / "policy.onnx"
    write_mjlab_onnx(network, source_onnx, encode)
    contract = tmp_path / "contract.yaml"
    contract.write_text(yaml.safe_dump(CONTRACT, sort_keys=False))
    written = import_policy(network, "mjlab", go2, tmp_path / "imported.onnx", contract)
    assert written.description is not None
    robot = load_robot_description(written.description)
    trace = drive_controller(written.model, written.description, run)

    assert_follows_oracle(MjlabOracle(network, go2.joint_names, gravity), trace, run, robot, lin_vel=True)


def test_without_a_period_the_import_asks_for_the_contract(tmp_path: Path, go2, source_onnx) -> None:
    network = tmp_path / "policy.onnx"
    write_mjlab_onnx(network, source_onnx)
    with pytest.raises(PolicyImportError, match="control_period_s is not in the source; give it in --contract"):
        import_policy(network, "mjlab", go2, tmp_path / "out.onnx")


def test_a_joint_the_robot_does_not_have(tmp_path: Path, go2, source_onnx) -> None:
    network = tmp_path / "policy.onnx"
    write_mjlab_onnx(network, source_onnx)
    proto = onnx.load(str(network))
    for prop in proto.metadata_props:
        if prop.key == "joint_names":
            prop.value = prop.value.replace("RR_calf_joint", "RR_knee_joint")
    onnx.save(proto, str(network))
    contract = tmp_path / "contract.yaml"
    contract.write_text(yaml.safe_dump(CONTRACT, sort_keys=False))
    with pytest.raises(PolicyImportError, match="joint 'RR_knee_joint' is not a joint of go2"):
        import_policy(network, "mjlab", go2, tmp_path / "out.onnx", contract)
