"""The task family: which joint fails, how, and when; payload; velocity commands.

In-distribution (trained) failures are on the left legs; the right legs are reached only by
mirroring (memory augmentation). A failure begins at a random time within the episode, so
the policy's memory must notice the change rather than read a start condition.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memaug_common.description import RobotDescription
from memaug_sim.faults import Fault, LimpFault, LockedFault, WeakenedFault


@dataclass(frozen=True)
class CommandRanges:
    """Uniform ranges of the velocity command: vx, vy (m/s), yaw rate (rad/s)."""

    vx: tuple[float, float] = (-0.4, 0.8)
    vy: tuple[float, float] = (-0.3, 0.3)
    yaw_rate: tuple[float, float] = (-0.8, 0.8)
    standing_probability: float = 0.1

    def as_array(self) -> np.ndarray:
        """[[low, high]] x (vx, vy, yaw_rate), shape [3, 2]."""
        return np.array([self.vx, self.vy, self.yaw_rate])

    def sample(self, rng: np.random.Generator, count: int) -> np.ndarray:
        ranges = self.as_array()
        commands = rng.uniform(ranges[:, 0], ranges[:, 1], size=(count, 3))
        commands[rng.random(count) < self.standing_probability] = 0.0
        return commands


def leg_of(name: str) -> str:
    """The leg a joint or foot belongs to, from its LEG_... name: "FR_calf_joint" -> "FR"."""
    return name.split("_")[0]


def leg_joints(description: RobotDescription, legs: tuple[str, ...]) -> tuple[str, ...]:
    """Joint names whose leg (e.g. FL, RL) is in ``legs``."""
    return tuple(n for n in description.joint_names if leg_of(n) in legs)


LEFT_LEGS = ("FL", "RL")
RIGHT_LEGS = ("FR", "RR")
FRONT_LEGS = ("FL", "FR")

#: How much more often a front-leg joint fails than a rear-leg one. The Go2 carries more of its
#: weight on the front legs: with a rear joint failed the policy kept walking at 0.3-0.45 m/s
#: of 0.5 after 26 M env steps with uniform odds, with a front one it stood still (knee) or
#: fell (hip, thigh). Three-legged walking on one front leg is the skill left to learn.
FRONT_LEG_FAILURE_WEIGHT = 3.0
#: A front knee (calf joint) fails 10x as often again, so most failures (77 % of the left legs'
#: with the weights above) are a front knee. With a limp front knee the policy knelt on all four
#: knees, safe and paid for standing still; 6x for 1,850 iterations did not move it. 30x, with
#: the knee-contact cost and the weakened continuum below, taught it to walk on in 2.5 M steps.
FRONT_KNEE_FAILURE_WEIGHT = 30.0


def failure_weights(joints: tuple[str, ...]) -> tuple[float, ...]:
    """Relative odds that each of ``joints`` is the one that fails (front legs weighted up)."""

    def weight(joint: str) -> float:
        if leg_of(joint) not in FRONT_LEGS:
            return 1.0
        is_knee = "_calf" in joint  # Unitree names the knee joint "calf"
        return FRONT_KNEE_FAILURE_WEIGHT if is_knee else FRONT_LEG_FAILURE_WEIGHT

    return tuple(weight(joint) for joint in joints)


@dataclass(frozen=True)
class Task:
    fault: Fault | None
    fault_step: int  # control step at which the fault begins
    payload_kg: float


@dataclass(frozen=True)
class TaskSampler:
    """Samples tasks: a joint failure (probability ``fault_probability``) among ``joints``, each
    with the relative odds ``joint_weights`` (empty: uniform).

    ``kind_weights`` are the relative odds of (limp, locked, weakened). Weakened joints keep a
    uniform fraction ``weakened_factor`` of their torque, from none (as limp) to most of it.
    That range is a curriculum without a schedule: with weakened factors up to 0.4 only, the
    policy walked on a front knee weakened to 0.5 and knelt below 0.4, a cliff it never
    crossed; spread up to 0.8, the failures it could walk through joined those it could not,
    and in 2.5 M env steps it walked at the command down to a limp knee. Failures start in
    the first 8 s (``fault_window_steps``) so that most of the 20 s episode is spent with it.
    """

    joints: tuple[str, ...]
    fault_probability: float = 0.8
    fault_window_steps: tuple[int, int] = (10, 400)
    payload_kg: tuple[float, float] = (0.0, 2.0)
    weakened_factor: tuple[float, float] = (0.0, 0.8)
    kind_weights: tuple[float, float, float] = (0.4, 0.1, 0.5)
    joint_weights: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.joint_weights and len(self.joint_weights) != len(self.joints):
            raise ValueError(f"joint_weights has {len(self.joint_weights)} entries for {len(self.joints)} joints")

    def sample(self, rng: np.random.Generator) -> Task:
        payload = float(rng.uniform(*self.payload_kg))
        if not self.joints or rng.random() >= self.fault_probability:
            return Task(None, 0, payload)
        odds = np.asarray(self.joint_weights or [1.0] * len(self.joints), dtype=float)
        joint = str(rng.choice(self.joints, p=odds / odds.sum()))
        weights = np.asarray(self.kind_weights, dtype=float)
        kind = rng.choice(3, p=weights / weights.sum())
        fault: Fault
        if kind == 0:
            fault = LimpFault(kind="limp", joint=joint)
        elif kind == 1:
            fault = LockedFault(kind="locked", joint=joint)
        else:
            fault = WeakenedFault(kind="weakened", joint=joint, factor=float(rng.uniform(*self.weakened_factor)))
        return Task(fault, int(rng.integers(*self.fault_window_steps)), payload)
