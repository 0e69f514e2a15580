"""A quick screen of a checkpoint's walking speed at the dynamics points that move it most.

The robustness suite (memaug_train.robustness) judges an exported policy over 43 points and
takes minutes; this screen takes seconds per checkpoint and reads the checkpoint itself, so a
run's snapshots can be sorted before any is exported. It runs the actor noise-free in the
training environment at 2 ms physics, on the nominal robot and at the ends of the
randomization ranges where the speed moves most: the highest joint damping (slower) and the
lowest ground friction (the feet slide: a lateral gait overshoots, a forward one can stall).
The suite decides; this only says which snapshots are worth its time. ``loop_gain`` says how
hard the actor answers its own velocity estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from memaug_common.description import RobotDescription
from memaug_sim.dynamics import Dynamics
from memaug_train.env import EnvConfig, VecGo2Env
from memaug_train.networks import VELOCITY, ActorCritic
from memaug_train.privileged import velocity_scale as privileged_velocity_scale
from memaug_train.robustness import COMMANDS
from memaug_train.tasks import CommandRanges, TaskSampler

FORWARD = COMMANDS["forward"][:2]  # vx, vy m/s: the suite's planar commands
LATERAL = COMMANDS["lateral"][:2]


@dataclass(frozen=True)
class SpeedPoint:
    name: str
    dynamics: Dynamics
    command: tuple[float, float]  # vx, vy m/s, base frame; no yaw

    @property
    def direction(self) -> np.ndarray:
        """[2] unit vector along the command, base frame."""
        return np.asarray(self.command) / np.linalg.norm(self.command)


@dataclass(frozen=True)
class SpeedReading:
    point: SpeedPoint
    velocity: tuple[float, float]  # mean base-frame vx, vy m/s after the settling time
    falls: int  # robots that fell (each fall resets the robot and the reading goes on)
    #: The actor's own velocity estimate, averaged the same way (vx, vy m/s), or None for an
    #: actor without an estimator: where it parts from ``velocity``, the actor is misled.
    estimate: tuple[float, float] | None = None

    @property
    def along_command(self) -> float:
        """m/s along the commanded direction."""
        return float(np.dot(self.velocity, self.point.direction))

    @property
    def estimate_along_command(self) -> float | None:
        """The estimate's m/s along the commanded direction, or None without an estimator."""
        return None if self.estimate is None else float(np.dot(self.estimate, self.point.direction))

    @property
    def across_command(self) -> float:
        """m/s across it (positive to the command's left): drift."""
        cx, cy = self.point.direction
        return float(np.dot(self.velocity, (-cy, cx)))


def speed_points(description: RobotDescription) -> tuple[SpeedPoint, ...]:
    """Forward and lateral on the nominal robot, at the highest joint damping and on the lowest
    ground friction. The range ends come from the robot description."""
    ranges = description.randomization
    damped = Dynamics(joint_damping=ranges.joint_damping[1])
    slippery = Dynamics(ground_friction=ranges.ground_friction[0])
    damping, friction = f"{ranges.joint_damping[1]:g}", f"{ranges.ground_friction[0]:g}"
    return (
        SpeedPoint("forward, nominal", Dynamics(), FORWARD),
        SpeedPoint(f"forward, damping {damping}", damped, FORWARD),
        SpeedPoint("lateral, nominal", Dynamics(), LATERAL),
        SpeedPoint(f"lateral, damping {damping}", damped, LATERAL),
        SpeedPoint(f"forward, ground friction {friction}", slippery, FORWARD),
        SpeedPoint(f"lateral, ground friction {friction}", slippery, LATERAL),
    )


def measure_speed(
    model: ActorCritic,
    description: RobotDescription,
    point: SpeedPoint,
    robots: int = 8,
    seconds: float = 5.0,
    settle_s: float = 1.5,
    physics_period_s: float = 0.002,
    seed: int = 1,
    estimate_shift_m_s: float = 0.0,
) -> SpeedReading:
    """``robots`` robots with ``point``'s dynamics and command (random headings, small joint
    noise), the actor's mean action for ``seconds``; velocity averaged over robots and over the
    time after ``settle_s``.

    ``estimate_shift_m_s`` moves the velocity estimate that the actor's head reads by that much
    along the command (the estimator and the reported estimate are untouched): how the speed
    answers it is the loop's gain (``loop_gain``). ValueError for an actor that reads no
    concurrent estimate (``ActorCritic.shift_estimate``).
    """
    vx, vy = point.command
    commands = CommandRanges(vx=(vx, vx), vy=(vy, vy), yaw_rate=(0.0, 0.0), standing_probability=0.0)
    config = EnvConfig(num_envs=robots, threads=1, commands=commands, physics_period_s=physics_period_s)
    no_tasks = TaskSampler(joints=(), fault_probability=0.0, payload_kg=(0.0, 0.0))
    env = VecGo2Env(description, config, no_tasks, seed=seed)
    env.reset()
    for i in range(robots):
        env.set_dynamics(i, point.dynamics)
    obs = torch.from_numpy(env.observe())
    h = model.actor_initial(robots)
    steps, settle = round(seconds / env.dt), round(settle_s / env.dt)
    velocity, falls = np.zeros(2), 0
    estimated: np.ndarray | None = None  # stays None for an actor without an estimator
    velocity_scale = privileged_velocity_scale(description.num_joints)[:2]  # the estimate's
    shift = torch.zeros(VELOCITY)
    shift[:2] = torch.from_numpy(point.direction * estimate_shift_m_s * velocity_scale)
    with torch.no_grad():
        for step in range(steps):
            y, h = model.actor_sequence(obs.unsqueeze(0), h)
            head_input = model.shift_estimate(y[0], shift) if estimate_shift_m_s else y[0]
            result = env.step(model.actor_mean(head_input).numpy())
            falls += int(result.terminated.sum())
            if step >= settle:
                velocity += result.base_velocity[:, :2].mean(axis=0)
                estimate = model.velocity_estimate(y[0])
                if estimate is not None:
                    reading = estimate[:, :2].numpy().mean(axis=0) / velocity_scale
                    estimated = reading if estimated is None else estimated + reading
            obs = torch.from_numpy(result.obs)
    readings = steps - settle
    velocity = velocity / readings
    return SpeedReading(
        point,
        (float(velocity[0]), float(velocity[1])),
        falls,
        None if estimated is None else (float(estimated[0] / readings), float(estimated[1] / readings)),
    )


#: Shifts of the estimate the head reads, m/s along the command, for ``loop_gain``.
LOOP_GAIN_SHIFTS_M_S = (-0.1, 0.0, 0.1)


def loop_gain(
    model: ActorCritic, description: RobotDescription, point: SpeedPoint, robots: int = 8, seconds: float = 5.0
) -> tuple[float, list[SpeedReading]]:
    """How hard the actor answers its velocity estimate at ``point``: the slope of its true
    speed along the command against a shift of the estimate its head reads
    (LOOP_GAIN_SHIFTS_M_S), and the readings (``measure_speed``'s, one per shift). An actor
    that trusts its estimate slows by the shift (gain -1: it believes it is already faster);
    one that ignores it keeps its speed (gain 0)."""
    readings = [
        measure_speed(model, description, point, robots=robots, seconds=seconds, estimate_shift_m_s=shift)
        for shift in LOOP_GAIN_SHIFTS_M_S
    ]
    slope = np.polyfit(LOOP_GAIN_SHIFTS_M_S, [r.along_command for r in readings], 1)[0]
    return float(slope), readings


def format_speeds(rows: dict[str, list[SpeedReading]]) -> str:
    """A Markdown table, one row per checkpoint label: speed along the command (drift across it),
    then the actor's own estimate of that speed where it has one."""
    points = next(iter(rows.values()))
    header = " | ".join(f"{r.point.name} ({np.linalg.norm(r.point.command):g})" for r in points)
    lines = [f"| checkpoint | {header} | falls |", "|---|" + "---|" * (len(points) + 1)]
    for label, readings in rows.items():
        cells = " | ".join(_cell(r) for r in readings)
        lines.append(f"| {label} | {cells} | {sum(r.falls for r in readings)} |")
    return "\n".join(lines)


def _cell(reading: SpeedReading) -> str:
    text = f"{reading.along_command:.3f} ({reading.across_command:+.2f})"
    estimate = reading.estimate_along_command
    return text if estimate is None else f"{text} est {estimate:.3f}"
