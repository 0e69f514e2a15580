"""legged_gym / unitree_rl_gym: a TorchScript actor (``policy_1.pt``) or LSTM (``policy_lstm_1.pt``).

The file holds the network only; the rest is the user's training config, whose documented
defaults for the Go2 (unitree_rl_gym's GO2RoughCfg on LeggedRobotCfg) are used unless
--contract says otherwise:

- observation: base linear velocity x2.0, base angular velocity x0.25, projected gravity,
  commands (vx, vy, yaw rate) x (2.0, 2.0, 0.25), (q - q0) x1.0, dq x0.05, last action;
  the whole vector clipped to +-100 (clip_observations). The base linear velocity is ground
  truth in Isaac Gym: such a policy runs in the sim only.
- actions: clipped to +-100 (clip_actions), q* = q0 + 0.25 a; the clipped action is fed back.
- default angles: hips +-0.1 (left +), front thighs 0.8, rear thighs 1.0, calves -1.5;
  stiffness 20, damping 0.5; sim dt 0.005 x decimation 4 = 0.02 s.
- joint order: Isaac Gym's depth-first order of the URDF, FL, FR, RL, RR legs, each hip,
  thigh, calf. Command ranges +-1 (lin_vel_x, lin_vel_y, ang_vel_yaw).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from memaug_common.description import RobotDescription
from memaug_policy.importers.common import ImportedPolicy
from memaug_policy.importers.onnx_graph import network_from_onnx
from memaug_policy.importers.torchscript import torchscript_to_onnx

LEGS = ("FL", "FR", "RL", "RR")

DEFAULT_OBSERVATIONS: list[dict[str, Any]] = [
    {"name": "base_linear_velocity", "scale": 2.0},
    {"name": "base_angular_velocity", "scale": 0.25},
    {"name": "projected_gravity", "scale": 1.0},
    {"name": "velocity_command", "scale": [2.0, 2.0, 0.25]},
    {"name": "joint_position", "scale": 1.0},
    {"name": "joint_velocity", "scale": 0.05},
    {"name": "last_action", "scale": 1.0},
]


def read(src: Path, description: RobotDescription) -> ImportedPolicy:
    network = network_from_onnx(torchscript_to_onnx(src), src)
    joints = [f"{leg}_{part}_joint" for leg in LEGS for part in ("hip", "thigh", "calf")]
    return ImportedPolicy(
        format="legged_gym",
        network=network,
        sources={"network": src},
        joint_names=joints,
        default_joint_positions={
            "F[LR]_thigh_joint": 0.8,
            "R[LR]_thigh_joint": 1.0,
            ".*_calf_joint": -1.5,
            ".L_hip_joint": 0.1,
            ".R_hip_joint": -0.1,
        },
        kp=20.0,
        kd=0.5,
        control_period_s=0.005 * 4,
        action_scale=0.25,
        raw_action_clip=100.0,
        last_action="clipped",
        observations=[{**entry, "clip": None, "history": 1} for entry in DEFAULT_OBSERVATIONS],
        observation_clip=100.0,
        command_ranges={"vx": (-1.0, 1.0), "vy": (-1.0, 1.0), "yaw_rate": (-1.0, 1.0)},
        assumptions=["legged_gym's Go2 defaults (unitree_rl_gym GO2RoughCfg) for everything --contract does not give"],
    )
