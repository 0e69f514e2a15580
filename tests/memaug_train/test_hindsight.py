"""Hindsight command relabelling: hand-made windows, the loss, and a PPO update that uses it."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch

from memaug_common.description import load_robot_description
from memaug_train.env import EnvConfig, VecGo2Env
from memaug_train.hindsight import CommandColumns, imitation_loss, relabel_commands
from memaug_train.networks import NetConfig
from memaug_train.ppo import PpoConfig, RecurrentPpo
from memaug_train.tasks import CommandRanges, TaskSampler

GO2 = load_robot_description("go2")


def small_env(n: int = 4) -> VecGo2Env:
    commands = CommandRanges(vx=(0.5, 0.5), vy=(0.0, 0.0), yaw_rate=(0.0, 0.0), standing_probability=0.0)
    config = EnvConfig(num_envs=n, threads=1, episode_steps=40, commands=commands, randomization=GO2.randomization)
    return VecGo2Env(GO2, config, TaskSampler(joints=(), fault_probability=0.0, payload_kg=(0.0, 0.0)), seed=0)


def test_a_healthy_window_is_relabelled_with_the_speed_it_achieved_along_its_command() -> None:
    env = small_env()
    columns = CommandColumns.for_layouts(env.layout, env.privileged_layout, torch.device("cpu"))
    steps, n = 4, 6
    obs = torch.zeros(steps, n, env.layout.dim)
    critic_obs = torch.zeros(steps, n, env.layout.dim + env.privileged_layout.dim)
    critic_obs[..., columns.torque_left] = 1.0
    obs[..., columns.command] = torch.tensor([0.5, 0.0, 0.3]) * columns.command_scale
    # Every robot walks 0.4 m/s forward on average (each step differs) and sways 0.1 m/s sideways.
    speeds = torch.tensor([0.3, 0.5, 0.35, 0.45])
    walk = torch.stack([speeds, torch.full((4,), 0.1), torch.zeros(4)], dim=-1) * columns.velocity_scale
    critic_obs[..., columns.velocity] = walk[:, None, :]
    obs[2:, 1, columns.command] = torch.tensor([0.8, 0.0, 0.3]) * columns.command_scale  # new command mid-window
    starts = torch.zeros(steps, n)
    starts[0, 0] = 1.0  # an episode that begins with the window is still one episode
    starts[2, 2] = 1.0  # robot 2 fell and restarted inside it
    critic_obs[3, 3, columns.torque_left.start] = 0.0  # robot 3's first joint went limp
    critic_obs[1, 4, columns.locked.start + 5] = 1.0  # robot 4's sixth joint locked
    obs[:, 5, columns.command] = torch.tensor([0.0, 0.0, 0.6]) * columns.command_scale  # robot 5 turns on the spot
    relabelled, mask = relabel_commands(obs, critic_obs, starts, columns)
    torch.testing.assert_close(mask, torch.tensor([1.0, 0.0, 0.0, 0.0, 0.0, 0.0]))
    achieved = relabelled[:, 0, columns.command] / columns.command_scale
    # The speed along the command is relabelled; the sway and the yaw command are not.
    torch.testing.assert_close(achieved, torch.tensor([[0.4, 0.0, 0.3]]).expand(steps, 3))
    untouched = [c for c in range(env.layout.dim) if not columns.command.start <= c < columns.command.stop]
    torch.testing.assert_close(relabelled[..., untouched], obs[..., untouched])
    torch.testing.assert_close(relabelled[:, 5], obs[:, 5])  # no planar command: nothing to rescale


def test_the_imitation_loss_counts_masked_robots_only() -> None:
    actions, targets = torch.zeros(5, 3, 2), torch.zeros(5, 3, 2)
    targets[:, 1] = 1.0  # robot 1 is off by 1 on both joints
    targets[:, 2] = 10.0  # robot 2 is masked out
    mask = torch.tensor([1.0, 1.0, 0.0])
    assert float(imitation_loss(actions, targets, mask)) == pytest.approx(1.0)  # (0 + 2) / 2 robots
    assert float(imitation_loss(actions, targets, torch.zeros(3))) == 0.0


def test_ppo_learns_from_relabelled_commands_and_validates_the_weight(tmp_path: Path) -> None:
    env = small_env(n=8)
    net = NetConfig(hidden=16, head=(32,), critic="mlp", privileged_dim=env.privileged_layout.dim)
    ppo = RecurrentPpo(env, PpoConfig(steps_per_iteration=12, net=net, hindsight_coef=1.0))
    stats = ppo.update(ppo.collect())
    assert np.isfinite(stats["hindsight"]) and stats["hindsight"] > 0.0
    plain = RecurrentPpo(env, PpoConfig(steps_per_iteration=12, net=net))
    assert "hindsight" not in plain.update(plain.collect())
    with pytest.raises(ValueError, match="must not be negative"):
        PpoConfig(net=net, hindsight_coef=-1.0)
    with pytest.raises(ValueError, match="needs the privileged critic"):
        PpoConfig(net=NetConfig(hidden=16), hindsight_coef=1.0)


def test_clean_robots_act_noise_free_are_the_ones_relabelled_and_stay_out_of_the_surrogate() -> None:
    env = small_env(n=8)
    net = NetConfig(hidden=16, head=(32,), critic="mlp", privileged_dim=env.privileged_layout.dim)
    ppo = RecurrentPpo(env, PpoConfig(steps_per_iteration=12, net=net, hindsight_coef=1.0, hindsight_clean_share=0.5))
    buf = ppo.collect()
    torch.testing.assert_close(buf["actions"][:, :4], buf["mean"][:, :4])  # the first half acts noise-free
    assert (buf["actions"][:, 4:] - buf["mean"][:, 4:]).abs().min() > 0.0
    # Their advantages do not reach the update: the same update with them changed learns the same.
    before = copy.deepcopy((ppo.model.state_dict(), ppo.optimizer.state_dict(), ppo.aug_hidden, ppo.learning_rate))

    def update_from_before(rollout: dict) -> tuple[dict, dict]:
        model, optimizer, ppo.aug_hidden, ppo.learning_rate = copy.deepcopy(before)
        ppo.model.load_state_dict(model)
        ppo.optimizer.load_state_dict(optimizer)
        torch.manual_seed(1)
        return ppo.update(rollout), copy.deepcopy(ppo.model.state_dict())

    stats, weights = update_from_before(buf)
    changed = {**buf, "advantages": buf["advantages"].clone()}
    changed["advantages"][:, :4] = 1e3
    changed_stats, changed_weights = update_from_before(changed)
    assert stats["surrogate"] == changed_stats["surrogate"] and stats["hindsight"] == changed_stats["hindsight"]
    for name, value in weights.items():
        torch.testing.assert_close(value, changed_weights[name])
    changed["advantages"][:, 4] = 1e3  # ...which a robot that explores does
    assert update_from_before(changed)[0]["surrogate"] != stats["surrogate"]
    with pytest.raises(ValueError, match="must be in"):
        PpoConfig(net=net, hindsight_coef=1.0, hindsight_clean_share=1.0)
    with pytest.raises(ValueError, match="needs hindsight"):
        PpoConfig(net=net, hindsight_clean_share=0.2)
