"""The fault teacher: which steps are taught, and a student that is its teacher copies it exactly."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch

from memaug_common.description import load_robot_description
from memaug_train.env import EnvConfig, VecGo2Env
from memaug_train.fault_teacher import faulted_steps
from memaug_train.hindsight import CommandColumns, imitation_loss
from memaug_train.networks import NetConfig
from memaug_train.ppo import PpoConfig, RecurrentPpo
from memaug_train.tasks import LEFT_LEGS, TaskSampler, leg_joints

GO2 = load_robot_description("go2")


def small_env(fault_probability: float, n: int = 6) -> VecGo2Env:
    # Faults begin at the first or second control step, so a 12-step rollout is mostly faulted.
    sampler = TaskSampler(
        joints=leg_joints(GO2, LEFT_LEGS), fault_probability=fault_probability, fault_window_steps=(1, 3)
    )
    config = EnvConfig(num_envs=n, threads=1, episode_steps=40, randomization=GO2.randomization)
    return VecGo2Env(GO2, config, sampler, seed=0)


def privileged_net(env: VecGo2Env) -> NetConfig:
    return NetConfig(hidden=16, head=(32,), critic="mlp", privileged_dim=env.privileged_layout.dim)


def save_teacher(ppo: RecurrentPpo, run: Path) -> Path:
    """``ppo``'s networks as a checkpoint with the run.json that rebuilds them."""
    run.mkdir()
    ppo.save(run / "checkpoint.pt")
    meta = {"method": "memaug", "robot": "go2", "hidden": 16, "ppo": {"net": dataclasses.asdict(ppo.config.net)}}
    (run / "run.json").write_text(json.dumps(meta))
    return run / "checkpoint.pt"


def test_faulted_steps_are_those_with_a_limp_locked_or_badly_weakened_joint() -> None:
    env = small_env(fault_probability=0.0)
    columns = CommandColumns.for_layouts(env.layout, env.privileged_layout, torch.device("cpu"))
    critic_obs = torch.zeros(3, 5, env.layout.dim + env.privileged_layout.dim)
    critic_obs[..., columns.torque_left] = 1.0
    critic_obs[1:, 1, columns.torque_left.start + 2] = 0.0  # robot 1: a joint goes limp at step 1
    critic_obs[2, 2, columns.torque_left.start + 7] = 0.4  # robot 2: one weakened at step 2
    critic_obs[:, 3, columns.locked.start + 11] = 1.0  # robot 3: one locked throughout
    critic_obs[:, 4, columns.torque_left.start] = 0.7  # robot 4: one mildly weakened throughout
    expected = torch.tensor([[0.0, 0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 1.0, 0.0]])
    torch.testing.assert_close(faulted_steps(critic_obs, columns.torque_left, columns.locked, 0.5), expected)
    expected[:, 4] = 1.0  # ...which counts when every fault does
    torch.testing.assert_close(faulted_steps(critic_obs, columns.torque_left, columns.locked), expected)


def test_the_imitation_loss_takes_a_mask_of_single_steps() -> None:
    actions, targets = torch.zeros(2, 2, 3), torch.ones(2, 2, 3)
    targets[0, 0] = 5.0  # masked out
    mask = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    assert float(imitation_loss(actions, targets, mask)) == pytest.approx(3.0)  # 3 joints off by 1


def test_a_student_that_is_its_teacher_copies_it_exactly_on_faulted_steps(tmp_path: Path) -> None:
    """The teacher's memory runs on the student's rollout and on its mirror image, in step with
    the student's: a student that starts as the teacher's copy is off by nothing before its
    first gradient step. After it, the two differ on faulted steps."""
    env = small_env(fault_probability=1.0)
    net = privileged_net(env)
    teacher = save_teacher(RecurrentPpo(env, PpoConfig(steps_per_iteration=12, net=net)), tmp_path / "teacher")
    one_step = PpoConfig(
        steps_per_iteration=12, epochs=1, minibatches=1, net=net, teacher=str(teacher), teacher_coef=1.0
    )
    student = RecurrentPpo(small_env(fault_probability=1.0), one_step)
    student.init_actor(teacher)
    buf = student.collect()
    columns = student.columns
    assert columns is not None
    assert faulted_steps(buf["critic_obs"], columns.torque_left, columns.locked).mean() > 0.5
    assert student.update(buf)["teacher"] == pytest.approx(0.0, abs=1e-10)
    assert student.update(student.collect())["teacher"] > 1e-8
    # With no fault there is nothing to copy, however far the student has moved.
    healthy = RecurrentPpo(small_env(fault_probability=0.0), dataclasses.replace(one_step, epochs=2))
    assert healthy.update(healthy.collect())["teacher"] == 0.0


def test_a_teacher_needs_its_weight_and_the_privileged_critic(tmp_path: Path) -> None:
    net = privileged_net(small_env(fault_probability=0.0))
    with pytest.raises(ValueError, match="go together"):
        PpoConfig(net=net, teacher="teacher.pt")
    with pytest.raises(ValueError, match="go together"):
        PpoConfig(net=net, teacher_coef=1.0)
    with pytest.raises(ValueError, match="must not be negative"):
        PpoConfig(net=net, teacher="teacher.pt", teacher_coef=-1.0)
    with pytest.raises(ValueError, match="needs the privileged critic"):
        PpoConfig(net=NetConfig(hidden=16), teacher="teacher.pt", teacher_coef=1.0)
    with pytest.raises(ValueError, match=r"must be in \(0, 1\]"):
        PpoConfig(net=net, teacher="teacher.pt", teacher_coef=1.0, teacher_torque_left_below=0.0)
