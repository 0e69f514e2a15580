"""Shared by the importer tests: source networks written as the frameworks' exporters write
them, a random run of robot states with memory resets, and the controller driving an imported
policy through that run (what the policy node and the suite run)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pytest
import torch

from memaug_common.description import RobotDescription, load_robot_description
from memaug_policy.controller import PolicyController
from memaug_policy.model import check_compatible, load_policy
from memaug_policy.safety import CommandLimits

#: Ticks of every run, and where the memory (and history) is reset: entering run mode.
TICKS = 240
RESETS = (0, 100, 170)


@dataclass(frozen=True)
class Run:
    """Robot states in the description's (SDK) order, one row per control tick."""

    q: np.ndarray  # [T, 12] rad
    dq: np.ndarray  # [T, 12] rad/s
    gyro: np.ndarray  # [T, 3] rad/s, base frame
    quat: np.ndarray  # [T, 4] wxyz, base -> world
    command: np.ndarray  # [T, 3] vx, vy, yaw rate
    lin_vel: np.ndarray  # [T, 3] m/s, base frame
    resets: frozenset[int]


@pytest.fixture(scope="session")
def go2() -> RobotDescription:
    return load_robot_description("go2")


@pytest.fixture(scope="session")
def run(go2: RobotDescription) -> Run:
    rng = np.random.default_rng(2902)
    quat = np.column_stack([np.ones(TICKS), rng.normal(0, 0.08, (TICKS, 3))])
    quat /= np.linalg.norm(quat, axis=1, keepdims=True)
    return Run(
        q=go2.default_pose + rng.normal(0, 0.1, (TICKS, 12)),
        dq=rng.normal(0, 1.5, (TICKS, 12)),
        gyro=rng.normal(0, 0.6, (TICKS, 3)),
        quat=quat,
        command=rng.uniform(-0.6, 0.6, (TICKS, 3)),
        lin_vel=rng.normal(0, 0.4, (TICKS, 3)),
        resets=frozenset(RESETS),
    )


@dataclass(frozen=True)
class Trace:
    obs: np.ndarray  # [T, obs_dim]
    actions: np.ndarray  # [T, 12] raw network output, policy order
    targets: np.ndarray  # [T, 12] rad, description order, after the safety gate


def drive(model_path: Path, robot: str | Path, run: Run) -> Trace:
    """The imported policy through memaug's controller over ``run``."""
    description = load_robot_description(robot)
    model = load_policy(model_path)
    check_compatible(model, description)
    controller = PolicyController(model, description)
    obs, actions, targets = [], [], []
    for t in range(TICKS):
        if t in run.resets:
            controller.reset()
        velocity = run.lin_vel[t] if controller.needs_base_velocity else None
        out = controller.step(run.q[t], run.dq[t], run.gyro[t], run.quat[t], run.command[t], velocity)
        obs.append(out.obs)
        actions.append(out.action)
        targets.append(out.targets)
    return Trace(np.array(obs), np.array(actions), np.array(targets))


@pytest.fixture
def drive_controller() -> Callable[[Path, str | Path, Run], Trace]:
    return drive


class Oracle(Protocol):
    """A framework's own way to build the observation and act, written in a test from its docs."""

    def reset(self) -> None: ...

    def step(self, *inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...


def follows_oracle(oracle: Oracle, trace: Trace, run: Run, robot: RobotDescription, lin_vel: bool = False) -> None:
    """The controller's trace equals the oracle's tick by tick, resets included: observations to
    1e-6, actions and targets (through the robot's limits and the safety gate) to 1e-5.
    ``lin_vel``: the oracle also takes the base linear velocity."""
    gate = CommandLimits.for_robot(robot)
    obs, actions, targets = [], [], []
    for t in range(len(trace.actions)):
        if t in run.resets:
            oracle.reset()
        inputs = (run.q[t], run.dq[t], run.gyro[t], run.quat[t], run.command[t])
        o, a, target = oracle.step(*inputs, run.lin_vel[t]) if lin_vel else oracle.step(*inputs)
        obs.append(o)
        actions.append(a)
        targets.append(gate.apply(np.clip(target, robot.lower_limits, robot.upper_limits), run.q[t]))
    np.testing.assert_allclose(trace.obs, np.array(obs), rtol=0, atol=1e-6)
    np.testing.assert_allclose(trace.actions, np.array(actions), rtol=0, atol=1e-5)
    np.testing.assert_allclose(trace.targets, np.array(targets), rtol=0, atol=1e-5)


@pytest.fixture
def assert_follows_oracle() -> Callable[..., None]:
    return follows_oracle


def gravity_in_base(quat_wxyz: np.ndarray) -> np.ndarray:
    """World gravity direction (0, 0, -1) in the base frame: R(q)^T g, written out here."""
    w, x, y, z = quat_wxyz
    rotation = np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )
    return rotation.T @ np.array([0.0, 0.0, -1.0])


@pytest.fixture
def gravity() -> Callable[[np.ndarray], np.ndarray]:
    return gravity_in_base


class SourceActor(torch.nn.Module):
    """An rsl_rl-style actor: normalizer baked in, optional GRU/LSTM memory, MLP head."""

    def __init__(self, obs_dim: int, cell: str, hidden: int = 8, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.cell = cell
        self.register_buffer("mean", torch.randn(obs_dim) * 0.1)
        self.register_buffer("std", torch.rand(obs_dim) + 0.5)
        rnn = {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM}.get(cell)
        self.memory = rnn(obs_dim, hidden) if rnn else None
        width = hidden if rnn else obs_dim
        self.actor = torch.nn.Sequential(torch.nn.Linear(width, 16), torch.nn.ELU(), torch.nn.Linear(16, 12))

    def forward(self, obs: torch.Tensor, *state: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = (obs - self.mean) / self.std
        if self.memory is None:
            return (self.actor(x),)
        out, new = self.memory(x.unsqueeze(0), state[0] if self.cell == "gru" else (state[0], state[1]))
        new_state = (new,) if self.cell == "gru" else new
        return (self.actor(out.squeeze(0)), *new_state)


def export_source_onnx(path: Path, obs_dim: int, cell: str, hidden: int = 8, seed: int = 0) -> None:
    """Write ``path`` the way rsl_rl's exporter does: obs [1, n] (+ h_in, c_in [1, 1, H]) ->
    actions [1, 12] (+ h_out, c_out), fixed shapes."""
    states = {"gru": ["h"], "lstm": ["h", "c"]}.get(cell, [])
    model = SourceActor(obs_dim, cell, hidden, seed).eval()
    example = (torch.zeros(1, obs_dim), *(torch.zeros(1, 1, hidden) for _ in states))
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            model,
            example,
            str(path),
            input_names=["obs", *(f"{s}_in" for s in states)],
            output_names=["actions", *(f"{s}_out" for s in states)],
            opset_version=17,
            dynamo=False,
        )


@pytest.fixture
def source_onnx() -> Callable[..., None]:
    return export_source_onnx
