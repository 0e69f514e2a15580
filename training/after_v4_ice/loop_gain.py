"""How hard the actor answers its velocity estimate: the loop's gain, measured.

    .venv/bin/python training/after_v4_ice/loop_gain.py CHECKPOINT.pt [...]

The estimate the actor's head reads is shifted by a fixed offset along the command (the
estimator itself is untouched), and the robot's true speed along the command is measured:
8 robots, 5 s, 2 ms physics, the actor's mean action, as ``memaug_train speed``. A loop that
trusts its estimate walks slower by the offset (gain -1: it believes it is already faster);
an actor that ignores the estimate does not change (gain 0). The gain printed is the slope
of the true speed against the offset between -0.1 and +0.1 m/s.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from memaug_common.description import RobotDescription, load_robot_description
from memaug_sim.dynamics import Dynamics
from memaug_train.checkpoints import load_trained
from memaug_train.env import EnvConfig, VecGo2Env
from memaug_train.networks import VELOCITY, ActorCritic
from memaug_train.tasks import CommandRanges, TaskSampler

OFFSETS_M_S = (-0.1, 0.0, 0.1)
POINTS = (
    ("lateral, nominal", Dynamics(), (0.0, 0.3)),
    ("lateral, ground friction 0.3", Dynamics(ground_friction=0.3), (0.0, 0.3)),
    ("lateral, kp/kd x0.5", Dynamics(kp_scale=0.5, kd_scale=0.5), (0.0, 0.3)),
    ("forward, nominal", Dynamics(), (0.5, 0.0)),
)


def speed_with_offset(
    model: ActorCritic,
    go2: RobotDescription,
    dynamics: Dynamics,
    command: tuple[float, float],
    offset_m_s: float,
    robots: int = 8,
    seconds: float = 5.0,
    settle_s: float = 1.5,
) -> float:
    """Mean true speed along ``command`` (m/s) with the head's estimate shifted by ``offset_m_s``."""
    vx, vy = command
    commands = CommandRanges(vx=(vx, vx), vy=(vy, vy), yaw_rate=(0.0, 0.0), standing_probability=0.0)
    config = EnvConfig(num_envs=robots, threads=1, commands=commands, physics_period_s=0.002)
    env = VecGo2Env(go2, config, TaskSampler(joints=(), fault_probability=0.0, payload_kg=(0.0, 0.0)), seed=1)
    env.reset()
    for i in range(robots):
        env.set_dynamics(i, dynamics)
    direction = np.array(command) / np.linalg.norm(command)
    layout = env.privileged_layout
    scale = layout.scale[layout.slices()["base_linear_velocity"]][:2]
    shift = torch.zeros(VELOCITY)
    shift[:2] = torch.from_numpy(direction * offset_m_s * scale)
    obs, h = torch.from_numpy(env.observe()), model.actor_initial(robots)
    steps, settle = round(seconds / env.dt), round(settle_s / env.dt)
    along = 0.0
    with torch.no_grad():
        for step in range(steps):
            y, h = model.actor_sequence(obs.unsqueeze(0), h)
            features = y[0].clone()
            features[:, -VELOCITY:] += shift
            result = env.step(model.actor_mean(features).numpy())
            if step >= settle:
                along += float(result.base_velocity[:, :2].mean(axis=0) @ direction)
            obs = torch.from_numpy(result.obs)
    return along / (steps - settle)


def main(paths: list[str]) -> None:
    go2 = load_robot_description("go2")
    heads = " | ".join(f"offset {o:+g}" for o in OFFSETS_M_S)
    print(f"| checkpoint | point | {heads} | gain |")
    print("|---|---|" + "---|" * (len(OFFSETS_M_S) + 1))
    for path in paths:
        model = load_trained(Path(path))[0]
        if model.estimate_input is None:
            raise SystemExit(f"{path}: this actor reads no concurrent estimate")
        for name, dynamics, command in POINTS:
            speeds = [speed_with_offset(model, go2, dynamics, command, o) for o in OFFSETS_M_S]
            gain = np.polyfit(OFFSETS_M_S, speeds, 1)[0]
            cells = " | ".join(f"{s:.3f}" for s in speeds)
            print(f"| {path} | {name} | {cells} | {gain:+.2f} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
