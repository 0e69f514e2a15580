"""rl_sar: policy/<robot>/<name>/config.yaml with the robot's base.yaml and a TorchScript
network imports and runs as rl_sar runs it (here a HIMLoco-style history policy).

The oracle is written from rl_sar's documented config and observation buffer, not from the
importer: policy joint i is SDK motor joint_mapping[i]; terms in `observations` order, each
times its *_scale, the frame clipped to +-clip_obs; the history buffer starts at zeros, the
newest frame is index 0, and `time` priority concatenates whole frames in
observations_history order; actions clipped per joint, fed back clipped; q* = q0 + scale * a.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from memaug_common.description import load_robot_description
from memaug_policy.importers import PolicyImportError, import_policy

SDK_NAMES = [f"{leg}_{part}_joint" for leg in ("FR", "FL", "RR", "RL") for part in ("hip", "thigh", "calf")]
MAPPING = [3, 4, 5, 0, 1, 2, 9, 10, 11, 6, 7, 8]
DEFAULT = np.array([0.1, 0.8, -1.5, -0.1, 0.8, -1.5, 0.1, 1.0, -1.5, -0.1, 1.0, -1.5])
ACTION_SCALE = np.array([0.125, 0.25, 0.25] * 4)
CLIP_LOW, CLIP_HIGH = np.array([-0.8, -1.0, -1.2] * 4), np.array([0.8, 1.0, 1.2] * 4)
HISTORY = 6
SCALES = {"ang_vel": 0.25, "dof_pos": 1.0, "dof_vel": 0.05, "commands": [2.0, 2.0, 0.25]}

BASE = {
    "go2": {
        "dt": 0.005,
        "decimation": 4,
        "num_of_dofs": 12,
        "wheel_indices": [],
        "joint_names": SDK_NAMES,
        "joint_mapping": list(range(12)),
    }
}
CONFIG = {
    "go2/himloco": {
        "model_name": "himloco.pt",
        "num_observations": 45,
        "observations": ["commands", "ang_vel", "gravity_vec", "dof_pos", "dof_vel", "actions"],
        "observations_history": list(range(HISTORY)),
        "observations_history_priority": "time",
        "clip_obs": 2.0,
        "clip_actions_lower": CLIP_LOW.tolist(),
        "clip_actions_upper": CLIP_HIGH.tolist(),
        "rl_kp": [40.0] * 12,
        "rl_kd": [1.0] * 12,
        "action_scale": ACTION_SCALE.tolist(),
        "lin_vel_scale": 2.0,
        "ang_vel_scale": SCALES["ang_vel"],
        "dof_pos_scale": SCALES["dof_pos"],
        "dof_vel_scale": SCALES["dof_vel"],
        "commands_scale": SCALES["commands"],
        "default_dof_pos": DEFAULT.tolist(),
        "joint_mapping": MAPPING,
    }
}


def write_policy_folder(root: Path, config: dict) -> Path:
    folder = root / "policy" / "go2" / "himloco"
    folder.mkdir(parents=True)
    (folder.parent / "base.yaml").write_text(yaml.safe_dump(BASE, sort_keys=False))
    (folder / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    torch.manual_seed(7)
    actor = torch.nn.Sequential(torch.nn.Linear(45 * HISTORY, 32), torch.nn.ELU(), torch.nn.Linear(32, 12))
    torch.jit.script(actor).save(str(folder / "himloco.pt"))
    return folder


class RlSarOracle:
    def __init__(self, network: Path, gravity) -> None:
        self.policy, self.gravity = torch.jit.load(str(network)), gravity

    def reset(self) -> None:
        self.buffer = [np.zeros(45) for _ in range(HISTORY)]  # index 0: the newest frame
        self.actions = np.zeros(12)

    def step(self, q_sdk, dq_sdk, gyro, quat, command):
        q, dq = q_sdk[MAPPING], dq_sdk[MAPPING]
        frame = np.concatenate(
            [
                command * np.array(SCALES["commands"]),
                gyro * SCALES["ang_vel"],
                self.gravity(quat),
                (q - DEFAULT) * SCALES["dof_pos"],
                dq * SCALES["dof_vel"],
                self.actions,
            ]
        )
        frame = np.clip(frame, -2.0, 2.0)
        self.buffer = [frame, *self.buffer[:-1]]
        obs = np.concatenate([self.buffer[k] for k in range(HISTORY)]).astype(np.float32)
        with torch.no_grad():
            raw = self.policy(torch.from_numpy(obs)[None])[0].numpy().astype(np.float64)
        self.actions = np.clip(raw, CLIP_LOW, CLIP_HIGH)
        motors = np.empty(12)
        motors[MAPPING] = self.actions * ACTION_SCALE + DEFAULT
        return obs, raw, motors


def test_history_policy_acts_as_rl_sar_over_240_ticks_with_resets(
    tmp_path: Path, go2, run, drive_controller, gravity, assert_follows_oracle
) -> None:
    folder = write_policy_folder(tmp_path, CONFIG)
    written = import_policy(folder, "rl_sar", go2, tmp_path / "imported.onnx")
    assert written.description is None  # kp 40, kd 1 and go2's default pose: go2.yaml itself runs it
    robot = load_robot_description("go2")
    trace = drive_controller(written.model, "go2", run)

    assert_follows_oracle(RlSarOracle(folder / "himloco.pt", gravity), trace, run, robot)


def test_an_observation_only_a_simulator_knows_of_is_refused_by_name(tmp_path: Path, go2) -> None:
    config = {"go2/himloco": {**CONFIG["go2/himloco"], "observations": ["height_scan", "commands"]}}
    folder = write_policy_folder(tmp_path, config)
    with pytest.raises(PolicyImportError, match="observation height_scan is not one a go2 measures"):
        import_policy(folder, "rl_sar", go2, tmp_path / "out.onnx")
