"""Hindsight command relabelling: what a rollout shows about walking at the speed it reached.

A robot that was told 0.5 m/s and walked 0.41 (joint damping 2 N m s/rad, say) showed how to
walk 0.41 m/s on that robot. Rewritten with the command it achieved, the same observations
and the policy's own noise-free actions are a demonstration for the policy's memory to copy.
Copying them teaches the mapping from the command to the gait *given what the memory has
inferred about the robot*: at damping 2, a 0.5 m/s command must bring the gait that used to
make 0.5 there. PPO's white action noise hardly explores a whole stride's speed, and in
100 M env steps it never learned that mapping (the speed at damping 2 stayed 0.72x the speed
at damping 0 while the memory's velocity estimate knew both to within 0.05 m/s).

The fixed point is a policy whose achieved speed equals its command everywhere; there the
relabelled command is the command and the loss is only the stride's noise.

Arrays are rollout buffers: [T, N, ...], time first, one column per robot.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from memaug_policy.observation import ObservationLayout


@dataclass(frozen=True)
class CommandColumns:
    """Where the command and the achieved motion sit in the actor's and the critic's inputs,
    with the scales that turn the scaled values back into m/s and rad/s."""

    command: slice  # actor obs: vx, vy, yaw rate (scaled)
    command_scale: torch.Tensor  # [3]
    yaw_rate: int  # actor obs: the gyro's z (scaled; noisy, but its mean over a window is not)
    yaw_rate_scale: float
    velocity: slice  # critic input: the true base velocity vx, vy, vz (scaled)
    velocity_scale: torch.Tensor  # [3]

    @classmethod
    def for_layouts(
        cls, layout: ObservationLayout, privileged: ObservationLayout, device: torch.device
    ) -> CommandColumns:
        obs, priv = layout.slices(), privileged.slices()
        command, gyro, velocity = obs["velocity_command"], obs["base_angular_velocity"], priv["base_linear_velocity"]
        yaw = gyro.start + 2

        def scale(columns: slice, source: ObservationLayout) -> torch.Tensor:
            return torch.tensor(source.scale[columns].copy(), dtype=torch.float32, device=device)

        offset = layout.dim  # the privileged terms follow the observation in the critic's input
        return cls(
            command=command,
            command_scale=scale(command, layout),
            yaw_rate=yaw,
            yaw_rate_scale=float(layout.scale[yaw]),
            velocity=slice(offset + velocity.start, offset + velocity.stop),
            velocity_scale=scale(velocity, privileged),
        )


def relabel_commands(
    obs: torch.Tensor, critic_obs: torch.Tensor, starts: torch.Tensor, columns: CommandColumns
) -> tuple[torch.Tensor, torch.Tensor]:
    """The observations with each robot's command replaced by what it achieved over the window.

    ``obs`` [T, N, D], ``critic_obs`` [T, N, D + P], ``starts`` [T, N] (1 where an episode
    began). Returns (relabelled obs [T, N, D], mask [N]: 1.0 for robots whose window is one
    episode under one command, the only windows whose mean motion answers that command).
    The achieved command is the window's mean planar velocity (base frame, m/s) and mean
    yaw rate (rad/s), scaled as the observation scales commands.
    """
    command = obs[..., columns.command]
    one_command = (command == command[:1]).all(dim=-1).all(dim=0)
    one_episode = (starts[1:] == 0).all(dim=0)
    mask = (one_command & one_episode).float()
    planar = critic_obs[..., columns.velocity].mean(dim=0)[:, :2] / columns.velocity_scale[:2]
    yaw_rate = obs[..., columns.yaw_rate].mean(dim=0) / columns.yaw_rate_scale
    achieved = torch.cat([planar, yaw_rate[:, None]], dim=-1) * columns.command_scale  # [N, 3] scaled
    relabelled = obs.clone()
    relabelled[..., columns.command] = achieved.expand(obs.shape[0], -1, -1)
    return relabelled, mask


def imitation_loss(actions: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over the masked robots' steps of |a - a_target|^2 (summed over joints): ``actions``
    and ``targets`` [T, N, A], ``mask`` [N]. Zero when no robot is masked in."""
    per_robot = (actions - targets).pow(2).sum(-1).mean(0)  # [N]
    return (per_robot * mask).sum() / mask.sum().clamp(min=1.0)
