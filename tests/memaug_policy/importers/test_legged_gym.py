"""legged_gym / unitree_rl_gym: TorchScript actors (an MLP, and the LSTM exporter that keeps its
state in buffers and has reset_memory()) import and run as legged_gym's play loop runs them.

The oracle runs the TorchScript file itself (its own state, reset_memory() at each reset) on the
observation legged_gym's compute_observations builds, written here from its documented config:
Isaac Gym's depth-first joint order (FL, FR, RL, RR legs), obs_scales, clip_observations,
clip_actions, q* = q0 + action_scale * clip(a).
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from memaug_common.description import load_robot_description
from memaug_policy.importers import PolicyImportError, import_policy
from memaug_policy.model import load_policy

JOINTS = [f"{leg}_{part}_joint" for leg in ("FL", "FR", "RL", "RR") for part in ("hip", "thigh", "calf")]
DEFAULT = np.array([0.1, 0.8, -1.5, -0.1, 0.8, -1.5, 0.1, 1.0, -1.5, -0.1, 1.0, -1.5])


class PolicyExporterLSTM(torch.nn.Module):
    """The layout of legged_gym's LSTM exporter: memory (LSTM) + actor, state in buffers."""

    def __init__(self, obs_dim: int, hidden: int = 8) -> None:
        super().__init__()
        torch.manual_seed(4)
        self.actor = torch.nn.Sequential(torch.nn.Linear(hidden, 16), torch.nn.ELU(), torch.nn.Linear(16, 12))
        self.memory = copy.deepcopy(torch.nn.LSTM(obs_dim, hidden))
        self.register_buffer("hidden_state", torch.zeros(1, 1, hidden))
        self.register_buffer("cell_state", torch.zeros(1, 1, hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, (h, c) = self.memory(x.unsqueeze(0), (self.hidden_state, self.cell_state))
        self.hidden_state[:] = h
        self.cell_state[:] = c
        return self.actor(out.squeeze(0))

    @torch.jit.export
    def reset_memory(self) -> None:
        self.hidden_state[:] = 0.0
        self.cell_state[:] = 0.0


class RslRlTorchExporterGRU(torch.nn.Module):
    """The layout of rsl_rl's TorchScript exporter for a GRU: normalizer, rnn, actor, the state
    in a buffer, reset()."""

    def __init__(self, obs_dim: int, hidden: int = 8) -> None:
        super().__init__()
        torch.manual_seed(6)
        self.normalizer = EmpiricalNormalization(obs_dim)
        self.rnn = torch.nn.GRU(obs_dim, hidden, num_layers=2)
        self.actor = torch.nn.Sequential(torch.nn.Linear(hidden, 16), torch.nn.ELU(), torch.nn.Linear(16, 12))
        self.register_buffer("hidden_state", torch.zeros(2, 1, hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.normalizer(x)
        out, h = self.rnn(x.unsqueeze(0), self.hidden_state)
        self.hidden_state[:] = h
        return self.actor(out.squeeze(0))

    @torch.jit.export
    def reset(self) -> None:
        self.hidden_state[:] = 0.0


class EmpiricalNormalization(torch.nn.Module):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.randn(size) * 0.1)
        self.register_buffer("std", torch.rand(size) + 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / (self.std + 1e-2)


def write_mlp(path: Path, obs_dim: int) -> None:
    torch.manual_seed(5)
    actor = torch.nn.Sequential(
        torch.nn.Linear(obs_dim, 32), torch.nn.ELU(), torch.nn.Linear(32, 16), torch.nn.ELU(), torch.nn.Linear(16, 12)
    )
    torch.jit.script(actor).save(str(path))


class LeggedGymOracle:
    def __init__(self, path: Path, sdk_names: tuple[str, ...], gravity, scales: dict[str, object], lin_vel: bool):
        self.policy = torch.jit.load(str(path))
        self.sdk = np.array([sdk_names.index(name) for name in JOINTS])
        self.gravity, self.scales, self.lin_vel = gravity, scales, lin_vel

    def reset(self) -> None:
        self.actions = np.zeros(12)
        if hasattr(self.policy, "reset_memory"):
            self.policy.reset_memory()
        if hasattr(self.policy, "reset"):
            self.policy.reset()

    def step(self, q, dq, gyro, quat, command, lin_vel):
        s = self.scales
        parts = [lin_vel * s["lin_vel"]] if self.lin_vel else []
        parts += [
            gyro * s["ang_vel"],
            self.gravity(quat),
            command * np.array(s["commands"]),
            (q[self.sdk] - DEFAULT) * s["dof_pos"],
            dq[self.sdk] * s["dof_vel"],
            self.actions,
        ]
        obs = np.clip(np.concatenate(parts), -100.0, 100.0).astype(np.float32)
        with torch.no_grad():
            raw = self.policy(torch.from_numpy(obs)[None])[0].numpy().astype(np.float64)
        self.actions = np.clip(raw, -100.0, 100.0)
        motors = np.empty(12)
        motors[self.sdk] = self.actions * s["action_scale"] + DEFAULT
        return obs, raw, motors


LEGGED_GYM_SCALES = {
    "lin_vel": 2.0,
    "ang_vel": 0.25,
    "commands": [2.0, 2.0, 0.25],
    "dof_pos": 1.0,
    "dof_vel": 0.05,
    "action_scale": 0.25,
}


def _drive_against(oracle, written, run, drive_controller, assert_follows_oracle):
    """The imported policy through the controller on the run, tick by tick against the oracle
    (the sim's base velocity offered, as legged_gym observes it where it wants it); its robot."""
    robot = load_robot_description(written.description or "go2")
    trace = drive_controller(written.model, robot.source, run)
    assert_follows_oracle(oracle, trace, run, robot, lin_vel=True)
    return robot


def test_stateful_lstm_with_reset_memory_acts_as_legged_gym(
    tmp_path: Path, go2, run, drive_controller, gravity, assert_follows_oracle
) -> None:
    path = tmp_path / "policy_lstm_1.pt"
    torch.jit.script(PolicyExporterLSTM(48)).save(str(path))
    written = import_policy(path, "legged_gym", go2, tmp_path / "imported.onnx")
    oracle = LeggedGymOracle(path, go2.joint_names, gravity, LEGGED_GYM_SCALES, lin_vel=True)
    robot = _drive_against(oracle, written, run, drive_controller, assert_follows_oracle)
    assert robot.kp.tolist() == [20.0] * 12 and robot.kd.tolist() == [0.5] * 12


def test_rsl_rl_torchscript_gru_with_normalizer_and_reset(
    tmp_path: Path, go2, run, drive_controller, gravity, assert_follows_oracle
) -> None:
    """rsl_rl's policy.pt layout (2-layer GRU, normalizer first) through the same importer."""
    path = tmp_path / "policy.pt"
    torch.jit.script(RslRlTorchExporterGRU(48)).save(str(path))
    written = import_policy(path, "legged_gym", go2, tmp_path / "imported.onnx")
    recurrent = load_policy(written.model).metadata.recurrent
    assert (recurrent.cell, recurrent.layers, recurrent.hidden) == ("gru", 2, 8)
    oracle = LeggedGymOracle(path, go2.joint_names, gravity, LEGGED_GYM_SCALES, lin_vel=True)
    _drive_against(oracle, written, run, drive_controller, assert_follows_oracle)


def test_mlp_with_a_contract_for_its_own_observation_acts_as_legged_gym(
    tmp_path: Path, go2, run, drive_controller, gravity, assert_follows_oracle
) -> None:
    """A config without the base linear velocity (a real-robot policy), other scales and gains."""
    path = tmp_path / "policy_1.pt"
    write_mlp(path, 45)
    scales = LEGGED_GYM_SCALES | {"ang_vel": 0.2, "dof_vel": 0.1, "action_scale": 0.3}
    contract = {
        "kp": 25.0,
        "kd": 0.6,
        "action_scale": 0.3,
        "observations": [
            {"term": "base_angular_velocity", "scale": 0.2},
            {"term": "projected_gravity"},
            {"term": "velocity_command", "scale": [2.0, 2.0, 0.25]},
            {"term": "joint_position"},
            {"term": "joint_velocity", "scale": 0.1},
            {"term": "last_action"},
        ],
    }
    contract_path = tmp_path / "contract.yaml"
    contract_path.write_text(yaml.safe_dump(contract, sort_keys=False))
    written = import_policy(path, "legged_gym", go2, tmp_path / "imported.onnx", contract_path)
    oracle = LeggedGymOracle(path, go2.joint_names, gravity, scales, lin_vel=False)
    robot = _drive_against(oracle, written, run, drive_controller, assert_follows_oracle)
    assert robot.kp.tolist() == [25.0] * 12


def test_a_module_that_cannot_be_converted_names_the_op(tmp_path: Path, go2) -> None:
    class Special(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = torch.nn.Linear(48, 12)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.special.i1e(self.layer(x))

    path = tmp_path / "policy_1.pt"
    torch.jit.script(Special()).save(str(path))
    with pytest.raises(PolicyImportError, match=r"cannot be converted to ONNX: op aten::special_i1e"):
        import_policy(path, "legged_gym", go2, tmp_path / "out.onnx")


def test_a_file_that_is_not_torchscript(tmp_path: Path, go2) -> None:
    path = tmp_path / "policy_1.pt"
    path.write_bytes(b"not a zip archive")
    with pytest.raises(PolicyImportError, match="is not a loadable TorchScript file"):
        import_policy(path, "legged_gym", go2, tmp_path / "out.onnx")
