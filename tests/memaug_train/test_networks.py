"""The actor's networks: the concurrent velocity estimator beside the policy's memory."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from memaug_common.description import load_robot_description
from memaug_policy.model import check_compatible, load_policy
from memaug_policy.runtime import PolicyRuntime
from memaug_train.cli import main as train_cli
from memaug_train.env import EnvConfig, VecGo2Env
from memaug_train.networks import ActorCritic, NetConfig
from memaug_train.ppo import PpoConfig, RecurrentPpo
from memaug_train.tasks import TaskSampler

GO2 = load_robot_description("go2")
NO_FAULTS = TaskSampler(joints=(), fault_probability=0.0, payload_kg=(0.0, 0.0))
OBS, ACTIONS = 45, 12


def estimating_net(**overrides) -> NetConfig:
    values = {"hidden": 16, "head": (32,), "velocity_estimator": True, "estimator_hidden": 8} | overrides
    return NetConfig(**values)


def make_ppo(net: NetConfig, seed: int = 0, **ppo) -> RecurrentPpo:
    env = VecGo2Env(GO2, EnvConfig(num_envs=8, threads=1, episode_steps=12), NO_FAULTS, seed=seed)
    critic = dataclasses.replace(net, critic="mlp", privileged_dim=env.privileged_layout.dim)
    return RecurrentPpo(env, PpoConfig(steps_per_iteration=12, net=critic, **ppo), seed=seed)


def test_the_policy_gradient_stops_at_the_estimate_and_the_estimate_trains_only_the_estimator() -> None:
    torch.manual_seed(0)
    model = ActorCritic(OBS, ACTIONS, estimating_net())
    y, _ = model.actor_sequence(torch.randn(5, 3, OBS), model.actor_initial(3))
    model.actor_mean(y).sum().backward(retain_graph=True)
    assert all(p.grad is None or not p.grad.any() for p in model.estimator_parameters())
    assert model.actor_memory.rnn is not None and model.actor_memory.rnn.weight_ih_l0.grad is not None
    model.zero_grad(set_to_none=True)
    estimate = model.velocity_estimate(y)
    assert estimate is not None and estimate.shape == (5, 3, 3)
    estimate.pow(2).sum().backward()
    assert all(p.grad is not None for p in model.estimator_parameters())
    policy = [p for n, p in model.named_parameters() if n.startswith(("actor_", "log_std"))]
    assert all(p.grad is None or not p.grad.any() for p in policy)


def test_both_memories_ride_in_one_hidden_state_and_a_reset_clears_both() -> None:
    torch.manual_seed(1)
    model = ActorCritic(OBS, ACTIONS, estimating_net())
    assert model.actor_initial(4).shape == (1, 4, 16 + 8)
    obs = torch.randn(6, 4, OBS)
    starts = torch.zeros(6, 4)
    starts[3, 1] = 1.0  # robot 1 begins a new episode at step 3
    h0 = torch.randn(1, 4, 24)
    y_sequence, h_sequence = model.actor_sequence(obs, h0, starts)
    h, stepped = h0, []
    for t in range(6):
        h = h * (1 - starts[t]).view(1, -1, 1)
        mean, h = model.act_step(obs[t], h)
        stepped.append(mean)
    torch.testing.assert_close(model.actor_mean(y_sequence), torch.stack(stepped))
    torch.testing.assert_close(h_sequence, h)
    # After the reset, robot 1 acts as a robot that started there from zeros.
    fresh, _ = model.actor_sequence(obs[3:, 1:2], model.actor_initial(1))
    torch.testing.assert_close(y_sequence[3:, 1:2], fresh)


def test_each_memory_is_handed_a_contiguous_hidden_state_as_cudnn_requires() -> None:
    """cuDNN's GRU refuses a non-contiguous hx (the CPU kernel does not), so a slice of the
    joint hidden state must be copied before it reaches either GRU, or no GPU can train it."""
    model = ActorCritic(OBS, ACTIONS, estimating_net())
    handed: list[bool] = []

    def record(_module: torch.nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        handed.append(args[1].is_contiguous())

    for memory in (model.actor_memory, model.estimator_memory):
        assert memory is not None and memory.rnn is not None
        memory.rnn.register_forward_pre_hook(record)
    obs, h0 = torch.randn(4, 2, OBS), model.actor_initial(2)
    model.actor_sequence(obs, h0)
    model.actor_sequence(obs, h0, starts=torch.zeros(4, 2))
    assert handed and all(handed)


def test_a_shifted_estimate_moves_only_the_estimate_the_head_reads() -> None:
    torch.manual_seed(3)
    model = ActorCritic(OBS, ACTIONS, estimating_net())
    y, _ = model.actor_sequence(torch.randn(1, 4, OBS), model.actor_initial(4))
    shift = torch.tensor([0.2, -0.1, 0.0])
    shifted = model.shift_estimate(y[0], shift)
    torch.testing.assert_close(model.velocity_estimate(shifted), model.velocity_estimate(y[0]) + shift)
    torch.testing.assert_close(shifted[:, :16], y[0][:, :16])  # the policy's memory: untouched
    assert model.estimate_input is not None
    with torch.no_grad():  # zero at the start: give the head a reading to answer
        torch.nn.init.normal_(model.estimate_input.weight)
    assert not torch.allclose(model.actor_mean(shifted), model.actor_mean(y[0]))
    with pytest.raises(ValueError, match="concurrent estimate"):
        ActorCritic(OBS, ACTIONS, NetConfig(hidden=16)).shift_estimate(y[0][:, :16], shift)


def test_the_estimator_needs_the_gru_cell_and_a_velocity_estimate() -> None:
    with pytest.raises(ValueError, match="estimator_hidden"):
        estimating_net(cell="lstm")
    with pytest.raises(ValueError, match="estimator_hidden"):
        estimating_net(velocity_estimator=False)
    with pytest.raises(ValueError, match="estimator_hidden"):
        estimating_net(estimator_hidden=-1)


def test_an_actor_given_an_estimator_starts_as_the_actor_it_was_taken_from(tmp_path: Path) -> None:
    plain = make_ppo(NetConfig(hidden=16, head=(32,), velocity_estimator=True))
    plain.save(tmp_path / "checkpoint.pt")
    widened = make_ppo(estimating_net(), seed=3)
    widened.init_actor(tmp_path / "checkpoint.pt", critic=True)
    obs = torch.randn(7, 2, widened.env.layout.dim)
    with torch.no_grad():
        y_plain, _ = plain.model.actor_sequence(obs, plain.model.actor_initial(2))
        y_wide, _ = widened.model.actor_sequence(obs, widened.model.actor_initial(2))
        torch.testing.assert_close(widened.model.actor_mean(y_wide), plain.model.actor_mean(y_plain))
    assert float(y_wide[..., -3:].abs().max()) > 0  # an estimate is there, and weighed at zero
    assert widened.model.estimate_input is not None and not widened.model.estimate_input.weight.any()
    torch.testing.assert_close(widened.model.critic_head[0].weight, plain.model.critic_head[0].weight)
    # The other way round, an estimating actor does not fit a plain one: named, not guessed.
    widened.save(tmp_path / "estimating.pt")
    with pytest.raises(ValueError, match="reads a concurrent estimate, and this network has no estimator"):
        make_ppo(NetConfig(hidden=16, head=(32,), velocity_estimator=True)).init_actor(tmp_path / "estimating.pt")
    # Without critic=True the critic stays its own.
    fresh = make_ppo(estimating_net(), seed=4)
    fresh.init_actor(tmp_path / "checkpoint.pt")
    assert not torch.equal(fresh.model.critic_head[0].weight, plain.model.critic_head[0].weight)


def test_the_estimator_learns_at_its_own_rate_while_the_policy_rate_adapts(tmp_path: Path) -> None:
    ppo = make_ppo(estimating_net(), estimate_input_rate_scale=10.0)
    before = [p.detach().clone() for p in ppo.model.estimator_parameters()]
    ppo.train(2, tmp_path, checkpoint_every=2)
    policy_group, estimator_group, estimate_input_group = ppo.optimizer.param_groups
    assert estimator_group["lr"] == PpoConfig.estimator_learning_rate
    assert policy_group["lr"] == ppo.learning_rate != PpoConfig.learning_rate  # the KL moved it
    assert estimate_input_group["lr"] == pytest.approx(10.0 * ppo.learning_rate)  # and this with it
    after = ppo.model.estimator_parameters()
    assert all(not torch.equal(a, b) for a, b in zip(before, after, strict=True))


def test_cli_trains_and_exports_an_estimating_actor_that_the_runtime_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    run = tmp_path / "run"
    tiny = ["--envs", "8", "--hidden", "16", "--threads", "1", "--checkpoint-every", "1", "--iterations", "1"]
    assert train_cli(["train", "--run-dir", str(run), "--estimator-hidden", "8", *tiny]) == 0
    onnx_path = tmp_path / "policy.onnx"
    assert train_cli(["export", str(run / "checkpoint.pt"), str(onnx_path)]) == 0
    policy = load_policy(onnx_path)
    check_compatible(policy, GO2)
    assert policy.metadata.recurrent.hidden == 16 + 8 + 3  # the velocity loop's error rides last
    actions = PolicyRuntime(policy).step(np.zeros(policy.obs_dim, dtype=np.float32))
    assert actions.shape == (12,) and np.isfinite(actions).all()
    # A memoryless critic is what gives the estimator its ground truth.
    capsys.readouterr()
    refused = ["train", "--run-dir", str(tmp_path / "other"), "--estimator-hidden", "8", "--critic", "memory", *tiny]
    assert train_cli(refused) == 2
    assert capsys.readouterr().err.strip() == "memaug_train: --estimator-hidden needs the MLP critic and a gru method"
