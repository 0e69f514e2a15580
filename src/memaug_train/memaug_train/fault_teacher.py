"""A frozen teacher for the faulted robots: keep a fault skill while training for another goal.

Healthy-only hindsight (memaug_train.hindsight) and PPO's recentring both move the actor's
healthy gait, and in every run that did, the single-joint fault behaviour decayed within about
100 iterations (dr12; dr17 from 360 to 450: limp-joint falls 17 % -> 54 %). The faults other
than a front knee are rare by design (a limp rear thigh is 0.8 % of episodes:
memaug_train.tasks), too rare for PPO's signal to hold them against a change of the shared
actor. Kickstarting (Schmitt et al. 2018, arXiv 1803.03835) is the standard remedy: a frozen
teacher's actions are a supervised target beside PPO's. Here it applies only at the steps where
a severe fault is active, so the healthy gait stays the student's own, and the faulted robots
are pulled toward a policy that is known to walk through them (the shipped one). A joint
weakened to 0.8 of its torque walks with the healthy gait: taught on every fault, the student
took the teacher's healthy speed too (dr16 resumed with v2 as teacher: forward 0.53 -> 0.60
m/s in 40 iterations, while its fault falls came back to v2's).

The teacher runs its own memory over each rollout, and over its mirror image, with hidden
states carried from one rollout to the next like the student's: its targets are what it would
have done on the student's trajectory (DAgger-style), not on its own. Its actions are the
noise-free means. Its hidden states are not checkpointed: after --resume its memory starts
empty, which costs the robots mid-episode at that moment one episode of less apt targets.

Arrays are rollout buffers: [T, N, ...], time first, one column per robot.
"""

from __future__ import annotations

from pathlib import Path

import torch

from memaug_train.checkpoints import load_trained
from memaug_train.networks import Hidden, hidden_to


def faulted_steps(
    critic_obs: torch.Tensor, torque_left: slice, locked: slice, torque_left_below: float = 1.0
) -> torch.Tensor:
    """[T, N] 1.0 at the steps where a robot's fault is active: some motor keeps less than
    ``torque_left_below`` of its torque, or is locked. From the privileged terms of the critic's
    input ``critic_obs`` [T, N, D + P]."""
    weakened = (critic_obs[..., torque_left] < torque_left_below).any(dim=-1)
    stuck = (critic_obs[..., locked] > 0.0).any(dim=-1)
    return (weakened | stuck).float()


class FaultTeacher:
    """The actor of ``checkpoint`` (its run.json beside it), frozen, on ``streams`` sequences
    of ``num_envs`` robots (1: the rollout; 2: the rollout and its mirror image)."""

    def __init__(self, checkpoint: Path, num_envs: int, streams: int, device: torch.device) -> None:
        model, _, _ = load_trained(checkpoint)
        self.model = model.to(device)
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)
        self.hidden: list[Hidden] = [hidden_to(self.model.initial(num_envs)[0], device) for _ in range(streams)]

    @torch.no_grad()
    def actions(self, stream: int, obs: torch.Tensor, starts: torch.Tensor) -> torch.Tensor:
        """The teacher's noise-free actions [T, N, A] on ``obs`` [T, N, D] (``starts`` [T, N]: 1
        where an episode began); call once per rollout and stream, in order: its memory goes on
        from where the last call left it."""
        y, self.hidden[stream] = self.model.actor_sequence(obs, self.hidden[stream], starts)
        return self.model.actor_mean(y)
