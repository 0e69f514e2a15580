"""unitree_rl_lab: exported/policy.onnx with params/deploy.yaml imports and runs as Unitree's
deploy runs it.

The oracle is written from deploy.yaml's documented meaning, not from the importer: policy
joint i reads and drives SDK motor joint_ids_map[i]; stiffness/damping are per SDK motor;
default_joint_pos, action scale/offset/clip per policy joint; each observation term clipped
then scaled, history_length frames stacked oldest first, filled with the first frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import yaml

from memaug_common.description import load_robot_description
from memaug_policy.importers import PolicyImportError, import_policy

#: Isaac Lab's Go2 order (FL, FR, RL, RR breadth-first) as SDK motor indices (FR, FL, RR, RL legs).
JOINT_IDS_MAP = [3, 0, 9, 6, 4, 1, 10, 7, 5, 2, 11, 8]
STIFFNESS = [25.0, 25.0, 30.0] * 4  # SDK order: hip, thigh, calf per leg
DAMPING = [0.5, 0.5, 0.8] * 4
DEFAULT = [0.1, -0.1, 0.1, -0.1, 0.8, 0.8, 1.0, 1.0, -1.5, -1.5, -1.5, -1.5]  # policy order
HISTORY = 5
TERMS = [  # (name, size, scale, clip) in deploy.yaml's order
    ("base_ang_vel", 3, 0.2, None),
    ("projected_gravity", 3, 1.0, None),
    ("velocity_commands", 3, 1.0, None),
    ("joint_pos_rel", 12, 1.0, None),
    ("joint_vel_rel", 12, 0.05, [-3.0, 3.0]),
    ("last_action", 12, 1.0, None),
]
OBS_DIM = HISTORY * sum(size for _, size, _, _ in TERMS)
TARGET_CLIP = [[lo - 0.3, lo + 0.3] for lo in DEFAULT]


def deploy_yaml() -> dict:
    return {
        "joint_ids_map": JOINT_IDS_MAP,
        "step_dt": 0.02,
        "stiffness": STIFFNESS,
        "damping": DAMPING,
        "default_joint_pos": DEFAULT,
        "commands": {
            "base_velocity": {"ranges": {"lin_vel_x": [-0.5, 1.0], "lin_vel_y": [-0.3, 0.3], "ang_vel_z": [-1.2, 1.2]}}
        },
        "actions": {
            "JointPositionAction": {
                "clip": TARGET_CLIP,
                "joint_names": [".*"],
                "scale": [0.25] * 12,
                "offset": DEFAULT,
                "joint_ids": None,
            }
        },
        "observations": {
            name: {"params": {}, "clip": clip, "scale": [scale] * size, "history_length": HISTORY}
            for name, size, scale, clip in TERMS
        },
    }


class UnitreeDeployOracle:
    def __init__(self, network: Path, gravity) -> None:
        self.session = ort.InferenceSession(str(network), providers=["CPUExecutionProvider"])
        self.ids, self.default, self.gravity = np.array(JOINT_IDS_MAP), np.array(DEFAULT), gravity

    def reset(self) -> None:
        self.buffers: dict[str, list[np.ndarray]] = {}
        self.last_action = np.zeros(12)

    def step(self, q, dq, gyro, quat, command):
        values = {
            "base_ang_vel": gyro,
            "projected_gravity": self.gravity(quat),
            "velocity_commands": command,
            "joint_pos_rel": q[self.ids] - self.default,
            "joint_vel_rel": dq[self.ids],
            "last_action": self.last_action,
        }
        parts = []
        for name, _, scale, clip in TERMS:
            value = np.asarray(values[name], dtype=np.float64)
            if clip is not None:
                value = np.clip(value, *clip)
            value = value * scale
            buffer = self.buffers.setdefault(name, [value] * HISTORY)
            buffer.append(value)
            del buffer[:-HISTORY]
            parts.extend(buffer)
        obs = np.concatenate(parts).astype(np.float32)
        action = self.session.run(["actions"], {"obs": obs[None]})[0][0].astype(np.float64)
        self.last_action = action
        clip = np.array(TARGET_CLIP)
        target = np.clip(action * 0.25 + self.default, clip[:, 0], clip[:, 1])
        motors = np.empty(12)
        motors[self.ids] = target  # lowcmd.motor_cmd[joint_ids_map[i]].q = target[i]
        return obs, action, motors


def write_run(folder: Path, source_onnx, deploy: dict) -> Path:
    source_onnx(folder / "exported" / "policy.onnx", OBS_DIM, "none")
    (folder / "params").mkdir(parents=True, exist_ok=True)
    (folder / "params" / "deploy.yaml").write_text(yaml.safe_dump(deploy, sort_keys=False))
    return folder


def test_imported_policy_acts_as_unitree_deploy_over_240_ticks_with_resets(
    tmp_path: Path, go2, run, source_onnx, drive_controller, gravity, assert_follows_oracle
) -> None:
    folder = write_run(tmp_path / "run", source_onnx, deploy_yaml())
    written = import_policy(folder, "unitree_rl_lab", go2, tmp_path / "imported.onnx")
    assert written.description is not None
    robot = load_robot_description(written.description)
    assert robot.kp.tolist() == STIFFNESS and robot.kd.tolist() == DAMPING  # SDK order = description order
    trace = drive_controller(written.model, written.description, run)

    assert_follows_oracle(UnitreeDeployOracle(folder / "exported" / "policy.onnx", gravity), trace, run, robot)


def test_a_motor_the_robot_does_not_have_and_a_period_the_bridge_cannot_run(tmp_path: Path, go2, source_onnx) -> None:
    deploy = deploy_yaml()
    deploy["joint_ids_map"] = [*JOINT_IDS_MAP[:-1], 12]
    folder = write_run(tmp_path / "a", source_onnx, deploy)
    with pytest.raises(PolicyImportError, match="joint_ids_map names motor 12; go2 has 12"):
        import_policy(folder, "unitree_rl_lab", go2, tmp_path / "a.onnx")
    deploy = deploy_yaml()
    deploy["step_dt"] = 0.0125
    folder = write_run(tmp_path / "b", source_onnx, deploy)
    with pytest.raises(PolicyImportError, match="control period 0.0125 s is not a whole number of the bridge's 0.002"):
        import_policy(folder, "unitree_rl_lab", go2, tmp_path / "b.onnx")


def test_default_positions_outside_the_range_and_gains_out_of_bounds(tmp_path: Path, go2, source_onnx) -> None:
    deploy = deploy_yaml()
    deploy["default_joint_pos"] = [*DEFAULT[:8], -3.0, *DEFAULT[9:]]
    folder = write_run(tmp_path / "a", source_onnx, deploy)
    with pytest.raises(PolicyImportError, match=r"default position of FL_calf_joint -3.000 rad is outside its range"):
        import_policy(folder, "unitree_rl_lab", go2, tmp_path / "a.onnx")
    deploy = deploy_yaml()
    deploy["stiffness"] = [0.0] * 12
    folder = write_run(tmp_path / "b", source_onnx, deploy)
    with pytest.raises(PolicyImportError, match=r"kp \[0.0, .* outside what the bridge applies"):
        import_policy(folder, "unitree_rl_lab", go2, tmp_path / "b.onnx")
