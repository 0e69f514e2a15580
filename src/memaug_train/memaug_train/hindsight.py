"""Hindsight command relabelling: what a rollout shows about walking at the speed it reached.

A robot that was told 0.5 m/s and walked 0.41 (joint damping 2 N m s/rad, say) showed how to
walk 0.41 m/s on that robot. Rewritten with the command it achieved, the same observations
and the policy's own noise-free actions are a demonstration for the policy's memory to copy.
Copying them teaches the mapping from the command to the gait *given what the memory has
inferred about the robot*: at damping 2, a 0.5 m/s command must bring the gait that used to
make 0.5 there. PPO's white action noise hardly explores a whole stride's speed, and in
100 M env steps it never learned that mapping (the speed at damping 2 stayed 0.72x the speed
at damping 0 while the memory's velocity estimate knew both to within 0.05 m/s).

Only the speed along the commanded direction is relabelled, and only on healthy robots. A
first version relabelled the whole command (vx, vy, yaw rate) on every robot: a forward
walk's sway became a lateral command its actions ignored, and in 280 iterations the policy
learned to ignore lateral commands (0.12 m/s for 0.3) and fell on a limp knee
(runs/memaug_dr11), while its speed at damping 2 became 0.79x that at damping 0 (v2: 0.72x).

Relabelled from robots that explore, the command is the speed the *noisy* gait made, while
the targets are the noise-free actions, which make another speed on the robot: in dr12
(550 iterations) the deployed speed drifted from 0.51 to 0.63 m/s for 0.5 commanded.
PpoConfig.hindsight_clean_share lets a share of the robots act noise-free; then only they
are relabelled, and PPO's surrogate leaves them out.

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
    velocity: slice  # critic input: the true base velocity vx, vy, vz (scaled)
    velocity_scale: torch.Tensor  # [3]
    torque_left: slice  # critic input: the fraction of each motor's torque a fault leaves (1: healthy)
    locked: slice  # critic input: 1 where a fault locked the joint

    @classmethod
    def for_layouts(
        cls, layout: ObservationLayout, privileged: ObservationLayout, device: torch.device
    ) -> CommandColumns:
        obs, priv = layout.slices(), privileged.slices()
        command, velocity = obs["velocity_command"], priv["base_linear_velocity"]

        def scale(columns: slice, source: ObservationLayout) -> torch.Tensor:
            return torch.tensor(source.scale[columns].copy(), dtype=torch.float32, device=device)

        def in_critic_input(name: str) -> slice:
            # The privileged terms follow the observation in the critic's input.
            return slice(layout.dim + priv[name].start, layout.dim + priv[name].stop)

        return cls(
            command=command,
            command_scale=scale(command, layout),
            velocity=in_critic_input("base_linear_velocity"),
            velocity_scale=scale(velocity, privileged),
            torque_left=in_critic_input("motor_torque_left"),
            locked=in_critic_input("joint_locked"),
        )


#: Planar commands slower than this (m/s) are not relabelled: standing, or turning on the spot.
MIN_PLANAR_COMMAND = 0.05


def relabel_commands(
    obs: torch.Tensor, critic_obs: torch.Tensor, starts: torch.Tensor, columns: CommandColumns
) -> tuple[torch.Tensor, torch.Tensor]:
    """The observations with each robot's planar command rescaled to the speed it achieved
    along it over the window.

    ``obs`` [T, N, D], ``critic_obs`` [T, N, D + P], ``starts`` [T, N] (1 where an episode
    began). Returns (relabelled obs [T, N, D], mask [N]: 1.0 for the robots relabelled: one
    episode under one planar command of at least MIN_PLANAR_COMMAND, no fault). The planar
    command c becomes ((mean v . c) / |c|^2) c, with v the true base velocity (base frame,
    m/s); its direction and the yaw-rate command are kept.
    """
    command = obs[..., columns.command]
    one_command = (command == command[:1]).all(dim=-1).all(dim=0)
    one_episode = (starts[1:] == 0).all(dim=0)
    healthy = (critic_obs[..., columns.torque_left] == 1.0).all(dim=-1).all(dim=0)
    healthy &= (critic_obs[..., columns.locked] == 0.0).all(dim=-1).all(dim=0)
    planar = command[0, :, :2] / columns.command_scale[:2]  # [N, 2] m/s
    squared = planar.pow(2).sum(-1)
    moving = squared >= MIN_PLANAR_COMMAND**2
    mask = (one_command & one_episode & healthy & moving).float()
    velocity = critic_obs[..., columns.velocity].mean(dim=0)[:, :2] / columns.velocity_scale[:2]  # [N, 2] m/s
    along = (velocity * planar).sum(-1) / squared.clamp(min=MIN_PLANAR_COMMAND**2)  # achieved / commanded
    achieved = command[0].clone()
    achieved[:, :2] = achieved[:, :2] * torch.where(moving, along, torch.ones_like(along))[:, None]
    relabelled = obs.clone()
    relabelled[..., columns.command] = achieved.expand(obs.shape[0], -1, -1)
    return relabelled, mask


def imitation_loss(actions: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over the masked steps of |a - a_target|^2 (summed over joints): ``actions`` and
    ``targets`` [T, N, A]; ``mask`` [N] (whole robots) or [T, N] (single steps). Zero when
    nothing is masked in."""
    weights = mask.expand(actions.shape[:2])
    squared = (actions - targets).pow(2).sum(-1)  # [T, N]
    return (squared * weights).sum() / weights.sum().clamp(min=1.0)
