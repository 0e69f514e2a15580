"""Evaluation: in-distribution (left-leg) and out-of-distribution (right-leg) failures.

Each task is one joint failing (limp, locked, weakened to 20 %) 2 s into a 10 s episode, the
robot commanded forward at 0.5 m/s; deterministic actions (the Gaussian's mean). Returns are
normalized by the same policy's return with no failure, so 1.0 means "as good as healthy".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from memaug_common.description import RobotDescription
from memaug_sim.faults import Fault, LimpFault, LockedFault, WeakenedFault
from memaug_train.env import EnvConfig, VecGo2Env
from memaug_train.networks import ActorCritic
from memaug_train.randomization import RandomizationRanges
from memaug_train.tasks import LEFT_LEGS, RIGHT_LEGS, CommandRanges, Task, TaskSampler, leg_joints, leg_of

FAULT_STEP = 100  # 2 s at 50 Hz
FAULT_KINDS = ("limp", "locked", "weakened")
EPISODE_STEPS = 500  # 10 s
EVAL_COMMAND = CommandRanges(vx=(0.5, 0.5), vy=(0.0, 0.0), yaw_rate=(0.0, 0.0), standing_probability=0.0)


def task_set(description: RobotDescription, legs: tuple[str, ...]) -> list[Fault]:
    return [make_fault(kind, joint) for joint in leg_joints(description, legs) for kind in FAULT_KINDS]


@dataclass(frozen=True)
class FixedTasks(TaskSampler):
    """Hands out the given faults in turn (None: no fault), no payload."""

    faults: tuple[Fault | None, ...] = ()

    def sample(self, rng: np.random.Generator) -> Task:
        index = int(rng.integers(len(self.faults)))
        return Task(self.faults[index], FAULT_STEP, 0.0)


@dataclass(frozen=True)
class Episodes:
    """Per-episode outcomes of fixed-task evaluation rollouts, each [E] for E episodes."""

    faults: tuple[Fault | None, ...]  # the task of each episode
    returns: np.ndarray  # summed reward until the episode's first fall
    fell: np.ndarray  # bool
    speed_after_fault: np.ndarray  # m/s, mean base-frame vx from the fault to the end (or the fall)


def run_episodes(
    model: ActorCritic,
    description: RobotDescription,
    faults: Sequence[Fault | None],
    episodes_per_task: int,
    seed: int = 0,
    randomization: RandomizationRanges | None = None,
) -> Episodes:
    """Roll out ``episodes_per_task`` episodes of each of ``faults`` in one batch: commanded
    forward at 0.5 m/s, the fault at FAULT_STEP, deterministic actions, EPISODE_STEPS long; on
    the nominal robot, or with ``randomization`` on robots drawn from those ranges (the same
    draws for every policy scored with the same seed and task list)."""
    n = len(faults) * episodes_per_task
    config = EnvConfig(
        num_envs=n,
        episode_steps=EPISODE_STEPS + 1,
        command_resample_steps=10**9,
        commands=EVAL_COMMAND,
        initial_joint_noise=0.05,
        randomization=randomization,
    )
    env = VecGo2Env(description, config, FixedTasks(joints=(), faults=tuple(faults)), seed=seed)
    obs = torch.from_numpy(env.reset())
    # One task per environment, in order, so every task gets the same number of episodes.
    task_faults = tuple(faults[i % len(faults)] for i in range(n))
    for i, fault in enumerate(task_faults):
        env.set_task(i, Task(fault, FAULT_STEP, 0.0))
    h = model.actor_initial(n)
    total = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    distance = np.zeros(n)  # m, base-frame vx integrated after the fault, while alive
    time_after = np.zeros(n)
    with torch.no_grad():
        for step in range(EPISODE_STEPS):
            mean, h = model.act_step(obs, h)
            result = env.step(mean.numpy())
            total += result.reward * alive
            alive &= ~result.terminated
            if step >= FAULT_STEP:
                distance += result.base_velocity[:, 0] * alive * env.dt
                time_after += alive * env.dt
            obs = torch.from_numpy(result.obs)
    return Episodes(task_faults, total, ~alive, distance / np.maximum(time_after, env.dt))


def episode_returns(
    model: ActorCritic,
    description: RobotDescription,
    faults: Sequence[Fault | None],
    episodes_per_task: int,
    seed: int = 0,
    randomization: RandomizationRanges | None = None,
) -> dict[str, float]:
    """Mean return and fall rate over ``faults`` x ``episodes_per_task`` fixed-length episodes,
    overall ("return", "fall_rate") and per failure kind ("limp_return", "limp_fall_rate", ...)."""
    episodes = run_episodes(model, description, faults, episodes_per_task, seed, randomization)
    out = {"return": float(episodes.returns.mean()), "fall_rate": float(episodes.fell.mean())}
    kinds = np.array([fault.kind if fault is not None else "none" for fault in episodes.faults])
    for kind in FAULT_KINDS:
        if (kinds == kind).any():
            out[f"{kind}_return"] = float(episodes.returns[kinds == kind].mean())
            out[f"{kind}_fall_rate"] = float(episodes.fell[kinds == kind].mean())
    return out


def evaluate(
    model: ActorCritic,
    description: RobotDescription,
    episodes_per_task: int = 2,
    randomization: RandomizationRanges | None = None,
) -> dict[str, float]:
    """ID and OOD failure returns normalized by the healthy return, and fall rates, overall
    and per failure kind; see :func:`run_episodes` for ``randomization``."""

    def score(faults: Sequence[Fault | None], episodes: int) -> dict[str, float]:
        return episode_returns(model, description, faults, episodes, randomization=randomization)

    nominal = score([None], episodes_per_task * 4)
    in_dist = score(task_set(description, LEFT_LEGS), episodes_per_task)
    out_dist = score(task_set(description, RIGHT_LEGS), episodes_per_task)
    scale = max(nominal["return"], 1e-9)
    row = {
        "nominal_return": nominal["return"],
        "id_return_normalized": in_dist["return"] / scale,
        "ood_return_normalized": out_dist["return"] / scale,
        "id_fall_rate": in_dist["fall_rate"],
        "ood_fall_rate": out_dist["fall_rate"],
    }
    for split, result in (("id", in_dist), ("ood", out_dist)):
        for kind in FAULT_KINDS:
            row[f"{split}_{kind}_return_normalized"] = result[f"{kind}_return"] / scale
            row[f"{split}_{kind}_fall_rate"] = result[f"{kind}_fall_rate"]
    return row


def make_fault(kind: str, joint: str) -> Fault:
    """The evaluation's fault of ``kind`` (one of FAULT_KINDS) on ``joint``; weakened means to 20 %."""
    if kind == "limp":
        return LimpFault(kind="limp", joint=joint)
    if kind == "locked":
        return LockedFault(kind="locked", joint=joint)
    if kind == "weakened":
        return WeakenedFault(kind="weakened", joint=joint, factor=0.2)
    raise ValueError(f"unknown fault kind {kind!r}: expected one of {FAULT_KINDS}")


@dataclass(frozen=True)
class ProbeRow:
    joint: str  # "none" for the healthy reference
    split: str  # "ID" (a left leg, trained), "OOD" (a right leg, never simulated), "-" healthy
    speed_mps: float  # mean base-frame vx after the fault, over the episodes
    fraction_of_command: float
    fall_rate: float


def probe(
    model: ActorCritic,
    description: RobotDescription,
    kind: str,
    episodes_per_task: int = 2,
    randomization: RandomizationRanges | None = None,
) -> list[ProbeRow]:
    """Which single-joint failures the policy walks through: for every joint, the speed it keeps
    after that joint fails (``kind``) at 2 s under a 0.5 m/s forward command, and how often it
    falls; first row the healthy reference. The stack's demo criterion is >= 50 % of the command."""
    joints = description.joint_names
    faults: list[Fault | None] = [None, *(make_fault(kind, joint) for joint in joints)]
    episodes = run_episodes(model, description, faults, episodes_per_task, randomization=randomization)
    command = EVAL_COMMAND.vx[0]
    rows = []
    for index, fault in enumerate(faults):
        mine = np.arange(index, len(episodes.faults), len(faults))
        speed = float(episodes.speed_after_fault[mine].mean())
        joint = "none" if fault is None else fault.joint
        split = "-" if fault is None else ("ID" if leg_of(joint) in LEFT_LEGS else "OOD")
        rows.append(ProbeRow(joint, split, speed, speed / command, float(episodes.fell[mine].mean())))
    return rows


def format_probe(rows: list[ProbeRow], kind: str) -> str:
    lines = [
        f"| {kind} joint | split | speed after fault (m/s) | of command | falls |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.joint} | {r.split} | {r.speed_mps:.3f} | {r.fraction_of_command:.0%} | {r.fall_rate:.0%} |" for r in rows
    ]
    return "\n".join(lines)


def steps_to_90_percent(log: Path) -> int | None:
    """Env steps at which the training return (10-iteration mean) first reached 90 % of its final value."""
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    returns = np.array([r["mean_return"] for r in rows], dtype=np.float64)
    steps = np.array([r["env_steps"] for r in rows])
    finite = np.isfinite(returns)
    if finite.sum() < 10:
        return None
    smoothed = np.convolve(np.where(finite, returns, 0.0), np.ones(10) / 10, mode="valid")
    final = smoothed[-1]
    hits = np.flatnonzero(smoothed >= 0.9 * final)
    return int(steps[hits[0] + 9]) if len(hits) else None


def format_table(rows: dict[str, dict[str, float | int | None]]) -> str:
    lines = [
        "| method | env steps | nominal return | ID return (norm.) | OOD return (norm.) | ID falls | OOD falls "
        "| steps to 90 % of final ID return |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        to_90 = "n/a" if r["steps_to_90"] is None else f"{r['steps_to_90']:,}"
        lines.append(
            f"| {name} | {r['env_steps']:,} | {r['nominal_return']:.2f} | {r['id_return_normalized']:.3f} | "
            f"{r['ood_return_normalized']:.3f} | {r['id_fall_rate']:.0%} | {r['ood_fall_rate']:.0%} | {to_90} |"
        )
    return "\n".join(lines)


def format_kinds_table(rows: dict[str, dict[str, float | int | None]]) -> str:
    """Normalized return (fall rate) per failure kind, in and out of distribution."""
    header = " | ".join(f"{split} {kind}" for split in ("ID", "OOD") for kind in FAULT_KINDS)
    lines = [f"| method | {header} |", "|---|" + "---|" * 2 * len(FAULT_KINDS)]
    for name, r in rows.items():
        cells = [
            f"{r[f'{split}_{kind}_return_normalized']:.3f} ({r[f'{split}_{kind}_fall_rate']:.0%})"
            for split in ("id", "ood")
            for kind in FAULT_KINDS
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
