"""Controller tick (observation, ONNX Runtime, action map, safety gate) for the shipped policy
and for imported policies, against the bare ONNX Runtime step of the same network measured in
the same run: what the contract-2 observation builder (history, clips, joint map) costs.

    .venv/bin/python bench/bench_controller.py [--ticks 3000] [--rl-sar DIR]

--rl-sar DIR: also time rl_sar's HIMLoco Go2 policy (DIR = rl_sar's policy/go2/himloco), a
270-input history policy; not shipped here. Prints figures and ratios; asserts nothing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from memaug_common.description import RobotDescription, load_robot_description
from memaug_common.paths import config_dir
from memaug_policy.controller import PolicyController
from memaug_policy.importers import import_policy
from memaug_policy.model import load_policy


def tick_times(model_path: Path, robot: str | Path, ticks: int) -> tuple[np.ndarray, np.ndarray]:
    """(controller tick s, bare runtime step s) per tick, interleaved so load hits both alike."""
    description = load_robot_description(robot)
    controller = PolicyController(load_policy(model_path), description)
    runtime = PolicyController(load_policy(model_path), description).runtime
    rng = np.random.default_rng(0)
    q = description.default_pose + rng.normal(0, 0.05, (ticks, 12))
    quat = np.array([1.0, 0.0, 0.0, 0.0])
    obs = np.zeros(controller.model.obs_dim, np.float32)
    ours, bare = [], []
    for t in range(ticks):
        start = time.perf_counter()
        controller.step(q[t], np.zeros(12), np.zeros(3), quat, np.array([0.5, 0.0, 0.0]), np.zeros(3))
        middle = time.perf_counter()
        runtime.step(obs)
        end = time.perf_counter()
        ours.append(middle - start)
        bare.append(end - middle)
    return np.array(ours[100:]), np.array(bare[100:])


def report(label: str, ours: np.ndarray, bare: np.ndarray) -> None:
    p50, p99 = np.percentile(ours, [50, 99]) * 1e6
    b50, b99 = np.percentile(bare, [50, 99]) * 1e6
    print(
        f"{label:<34} controller p50 {p50:6.1f} us p99 {p99:6.1f} us | bare runtime p50 {b50:6.1f} us "
        f"p99 {b99:6.1f} us | overhead p50 {p50 - b50:5.1f} us ({p50 / b50:.2f}x)"
    )


def lstm_import(folder: Path, go2: RobotDescription) -> tuple[Path, Path]:
    class Exporter(torch.nn.Module):  # legged_gym's LSTM exporter layout, 48 inputs, 256 hidden
        def __init__(self) -> None:
            super().__init__()
            self.actor = torch.nn.Sequential(torch.nn.Linear(256, 128), torch.nn.ELU(), torch.nn.Linear(128, 12))
            self.memory = torch.nn.LSTM(48, 256)
            self.register_buffer("hidden_state", torch.zeros(1, 1, 256))
            self.register_buffer("cell_state", torch.zeros(1, 1, 256))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out, (h, c) = self.memory(x.unsqueeze(0), (self.hidden_state, self.cell_state))
            self.hidden_state[:] = h
            self.cell_state[:] = c
            return self.actor(out.squeeze(0))

    torch.manual_seed(0)
    torch.jit.script(Exporter()).save(str(folder / "policy_lstm_1.pt"))
    written = import_policy(folder / "policy_lstm_1.pt", "legged_gym", go2, folder / "lstm.onnx")
    assert written.description is not None
    return written.model, written.description


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ticks", type=int, default=3000)
    parser.add_argument("--rl-sar", type=Path, default=None)
    args = parser.parse_args()
    go2 = load_robot_description("go2")
    report(
        "shipped go2_memaug (format 1 path)",
        *tick_times(config_dir() / "policies" / "go2_memaug.onnx", "go2", args.ticks),
    )
    with tempfile.TemporaryDirectory() as tmp:
        model, robot = lstm_import(Path(tmp), go2)
        report("legged_gym LSTM-256 import", *tick_times(model, robot, args.ticks))
        if args.rl_sar is not None:
            himloco = Path(tmp) / "himloco.onnx"
            import_policy(args.rl_sar, "rl_sar", go2, himloco)
            report("rl_sar HIMLoco (270 = 6 x 45 frames)", *tick_times(himloco, "go2", args.ticks))


if __name__ == "__main__":
    main()
