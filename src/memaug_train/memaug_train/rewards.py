"""Reward terms: small named functions of a batch of robot states, each with a documented scale.

Every term maps arrays with a leading batch axis [N, ...] to [N]. The total reward per
control step is sum(scale * term) * control_period (so scales are per second).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from memaug_common.arrays import astype, clip, namespace, norm


@dataclass(frozen=True)
class RobotBatch:
    """What reward terms may read, all in the base frame unless said otherwise: NumPy arrays, or
    torch tensors on the training device (memaug_common.arrays); the terms work on either."""

    command: np.ndarray  # [N, 3] vx, vy m/s, yaw rate rad/s
    linear_velocity: np.ndarray  # [N, 3] m/s
    angular_velocity: np.ndarray  # [N, 3] rad/s
    projected_gravity: np.ndarray  # [N, 3]
    base_height: np.ndarray  # [N] m, world z
    joint_velocity: np.ndarray  # [N, J] rad/s
    torque: np.ndarray  # [N, J] N m
    action: np.ndarray  # [N, J]
    last_action: np.ndarray  # [N, J]
    feet_air_time: np.ndarray  # [N, F] s the foot had been in the air when it touched down (0 otherwise)
    feet_contact: np.ndarray  # [N, 4] bool, feet in leg order FR, FL, RR, RL (memaug_train.env.CANONICAL_LEGS)
    knee_height: np.ndarray  # [N, 4] m, world z of the knee joints, same leg order
    joint_speed_fraction: np.ndarray  # [N, J] |dq| / the joint's velocity limit
    #: [N, J] where each joint stands in its range: 0 at the middle, -1 and +1 at the limits
    joint_range_fraction: np.ndarray
    #: [N, J] rad by which the action's targets lie beyond the joint range (the action map clips there)
    target_beyond_range: np.ndarray


#: Width of the tracking kernels, (m/s)^2 or (rad/s)^2. 0.1 rather than legged_gym's 0.25:
#: with 0.25 an error of 0.08 m/s cost 2.5 % of the term, less than the gait terms paid for
#: longer strides, and the policy settled 0.08 m/s fast at 0.5 m/s commanded.
TRACKING_WIDTH = 0.1


def tracking_linear_velocity(b: RobotBatch) -> np.ndarray:
    """exp(-|v_xy* - v_xy|^2 / TRACKING_WIDTH): 1 when the planar velocity follows the command."""
    xp = namespace(b.command)
    return xp.exp(-xp.sum((b.command[:, :2] - b.linear_velocity[:, :2]) ** 2, axis=1) / TRACKING_WIDTH)


def velocity_progress(b: RobotBatch) -> np.ndarray:
    """A linear (tent) kernel on the planar velocity along the commanded direction: 1 at the
    commanded speed, falling to 0 at a standstill and at twice the command; 0 where no planar
    motion is commanded (|v_xy*| <= 0.05 m/s).

    The tracking kernel is almost flat far from the command: a robot standing under a
    0.5 m/s command gains only 0.8 %/(0.1 m/s) of it by starting to move. This term pays each
    bit of progress equally, so the first steps out of a standstill pay (the way out of
    standing on three legs after a knee fails). It is symmetric about the command: a first
    version saturated at the command, paid nothing for running slow that it took back for
    running fast, and the policy learned to run 17 % fast.
    """
    xp = namespace(b.command)
    speed = norm(b.command[:, :2], axis=1)
    # Velocity along the command as a fraction of the commanded speed: (v . c) / |c|^2.
    fraction = xp.sum(b.command[:, :2] * b.linear_velocity[:, :2], axis=1) / clip(speed, 1e-6, None) ** 2
    return xp.where(speed > 0.05, clip(1.0 - xp.abs(fraction - 1.0), 0.0, 1.0), 0.0)


def tracking_yaw_rate(b: RobotBatch) -> np.ndarray:
    """exp(-(wz* - wz)^2 / TRACKING_WIDTH)."""
    return namespace(b.command).exp(-((b.command[:, 2] - b.angular_velocity[:, 2]) ** 2) / TRACKING_WIDTH)


def vertical_velocity(b: RobotBatch) -> np.ndarray:
    """vz^2: bouncing."""
    return b.linear_velocity[:, 2] ** 2


def roll_pitch_rate(b: RobotBatch) -> np.ndarray:
    """|w_xy|^2: rocking."""
    return namespace(b.command).sum(b.angular_velocity[:, :2] ** 2, axis=1)


def tilt(b: RobotBatch) -> np.ndarray:
    """|g_xy|^2: the base not level."""
    return namespace(b.command).sum(b.projected_gravity[:, :2] ** 2, axis=1)


def torque_squared(b: RobotBatch) -> np.ndarray:
    """|tau|^2, N^2 m^2: effort."""
    return namespace(b.command).sum(b.torque**2, axis=1)


def joint_velocity_squared(b: RobotBatch) -> np.ndarray:
    return namespace(b.command).sum(b.joint_velocity**2, axis=1)


def action_rate(b: RobotBatch) -> np.ndarray:
    """|a - a_prev|^2: jerky targets."""
    return namespace(b.command).sum((b.action - b.last_action) ** 2, axis=1)


def _moving(b: RobotBatch) -> np.ndarray:
    """[N] 1.0 where a motion is commanded (|v_xy*| + |wz*| > 0.1), else 0.0."""
    xp = namespace(b.command)
    return astype(norm(b.command[:, :2], axis=1) + xp.abs(b.command[:, 2]) > 0.1, "float64")


def feet_air_time(b: RobotBatch) -> np.ndarray:
    """sum over touch-downs of (min(air time, 0.5 s) - 0.1 s), floored at 0, only while moving: real steps.

    Not negative for short steps (as legged_gym's form is): that made a standing robot the
    safest choice, and early training stalled there. The 0.1 s threshold pays a Go2 trot's
    ~0.2 s swing; the 0.5 s cap stops long hops from paying more than steps.
    """
    xp = namespace(b.command)
    return xp.sum(clip(clip(b.feet_air_time, None, 0.5) - 0.1, 0.0, None), axis=1) * _moving(b)


def trot_contact(b: RobotBatch) -> np.ndarray:
    """1 in the diagonal-support phase of a trot (FR with RL on the ground, FL with RR in the air, or
    the reverse), else 0; only while moving.

    Markov in the contacts, so it needs no gait clock in the observation. It replaces a
    foot-clearance bonus that paid for holding one foot up while standing on three.
    """
    fr, fl, rr, rl = (b.feet_contact[:, i] for i in range(4))
    return astype((fr == rl) & (fl == rr) & (fr != fl), "float64") * _moving(b)


#: A knee lower than this (world z, m) is on the floor: the thigh capsule's radius is 0.018 m.
KNEE_CONTACT_M = 0.03


def knee_contact(b: RobotBatch) -> np.ndarray:
    """Number of knees on the floor.

    Walking, a Go2's knees stay above ~0.18 m. Without this term, the answer the policy found to
    a limp front knee was to kneel: all four knees folded onto the floor, base at 0.19 m, just
    above a fall, paid for standing still (tracking yaw, level base) and safe from any fall. On
    a robot, kneeling grinds the knee joints on the ground; and only a dead leg held up off the
    floor, or dragged at a cost, leaves three legs to walk on. Charged after the clip of a
    step's reward at zero (AFTER_CLIP): inside it, the cost was capped at what the step earned.
    Ending the episode on a knee down instead (EnvConfig.knee_down_ends_episode) was tried, and
    made the policy fall where it had knelt.
    """
    xp = namespace(b.command)
    return xp.sum(astype(b.knee_height < KNEE_CONTACT_M, "float64"), axis=1)


#: Fraction of a joint's velocity limit above which joint speed costs: the bridges' protection
#: trips at the limit, and the torque-speed envelope already takes torque away above half of it.
SOFT_SPEED_FRACTION = 0.8


def joint_speed_near_limit(b: RobotBatch) -> np.ndarray:
    """sum over joints of (|dq| / limit - SOFT_SPEED_FRACTION), floored at 0: keeps the gait
    inside the velocity limits of the robot description with a margin."""
    xp = namespace(b.command)
    return xp.sum(clip(b.joint_speed_fraction - SOFT_SPEED_FRACTION, 0.0, None), axis=1)


#: Share of each joint's half range, from its middle, the gait may use without cost.
SOFT_RANGE_FRACTION = 0.9


def joint_position_near_limit(b: RobotBatch) -> np.ndarray:
    """sum over joints of (|range fraction| - SOFT_RANGE_FRACTION), floored at 0: keeps the
    gait off the joints' mechanical stops. v8 and v9 walked on straight knees, the calves at
    their upper stop (-0.84 rad) and the base at 0.39 m; with 25 % weaker gains or 3 kg on
    heavy joints that posture pitched over within 2 s. This term alone did not bend the knees
    (their targets sat clipped at the stop: targets_beyond_range)."""
    xp = namespace(b.command)
    return xp.sum(clip(xp.abs(b.joint_range_fraction) - SOFT_RANGE_FRACTION, 0.0, None), axis=1)


def targets_beyond_range(b: RobotBatch) -> np.ndarray:
    """sum over joints of how far, rad, the action's targets lie beyond the joint range.

    The action map clips targets to the range, so an action past the clip does what the clip
    does: every sample of the exploration noise around it makes the same target, and no other
    term can tell the policy to come back. v9 (iteration 2800) asked for 0.16-0.20 rad past
    the calves' upper stop on average, 60-70 % of the time clipped there, and neither the
    height nor the joint-limit penalty moved its straight knees in 500 iterations."""
    xp = namespace(b.command)
    return xp.sum(b.target_beyond_range, axis=1)


def base_height_error(b: RobotBatch) -> np.ndarray:
    return (b.base_height - 0.30) ** 2


RewardTerm = Callable[[RobotBatch], np.ndarray]

#: (term, scale per second). Positive terms are rewards, negative scales are penalties.
DEFAULT_REWARDS: tuple[tuple[RewardTerm, float], ...] = (
    (tracking_linear_velocity, 1.5),
    # 2.0 was tried (runs/memaug_dr6, 5.7 M env steps from dr5): the speed still followed the
    # joint damping (0.73 m/s at 0, 0.53 at 2 N m s/rad) and the gait ran faster at nominal.
    (velocity_progress, 0.5),
    (tracking_yaw_rate, 0.75),
    (vertical_velocity, -2.0),
    (roll_pitch_rate, -0.05),
    (tilt, -2.0),
    (torque_squared, -1e-4),
    (joint_velocity_squared, -1e-4),
    (action_rate, -0.01),
    (feet_air_time, 1.0),
    (trot_contact, 0.5),
    (joint_speed_near_limit, -2.0),
    (joint_position_near_limit, -10.0),
    (targets_beyond_range, -1.0),
    # -10 until v9's iteration 2280: 0.08/s at 0.39 m, where the gait ran on straight knees.
    # -30 (0.24/s there) moved neither the height nor the knees in 270 iterations; -100 from 2550.
    (base_height_error, -100.0),
)


#: (term, scale per second) charged after the clip at zero, so that they cost on a step that
#: earns little, where the clip would cap them at its earnings.
#: knee_contact: -1 until v9's iteration 3490 and -3 after it, both inside the clip: on heavy
#: joints a front knee went on brushing the floor after the other went limp (0.7-1.3 s per 10 s
#: run at 3620, 0.2-0.4 s at 4410; composite suite), on steps that earned less than the cost.
#: After the clip from 4430. A step can now cost, so a robot that could only kneel would gain
#: by falling; the suite's limp rows watch for falls.
AFTER_CLIP: tuple[tuple[RewardTerm, float], ...] = ((knee_contact, -3.0),)


def describe_rewards() -> dict[str, float]:
    """{term name: scale per second} of DEFAULT_REWARDS and, named NAME_after_clip, of
    AFTER_CLIP: for run.json and the exported model's provenance."""
    return {term.__name__: scale for term, scale in DEFAULT_REWARDS} | {
        f"{term.__name__}_after_clip": scale for term, scale in AFTER_CLIP
    }


def total_reward(
    batch: RobotBatch,
    dt: float,
    terms: tuple[tuple[RewardTerm, float], ...] = DEFAULT_REWARDS,
    after_clip: tuple[tuple[RewardTerm, float], ...] = AFTER_CLIP,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Sum of scaled ``terms`` x dt, clipped at zero, plus the scaled ``after_clip`` terms x dt,
    [N]; and each term's batch mean (for logging: a 0-d array where the batch is, so logging
    it is the only thing that brings it to the host).

    Clipping at zero (as legged_gym does) matters: with a negative per-step reward an
    early fall would *raise* the return, and the policy learns to fall. Only what a standing,
    walking robot can always avoid is charged after it.
    """
    xp = namespace(batch.command)
    totals = []
    means = {}
    for group in (terms, after_clip):
        total = xp.zeros_like(batch.command[:, 0])
        for term, scale in group:
            value = scale * term(batch) * dt
            total += value
            means[term.__name__] = xp.mean(value)
        totals.append(total)
    return clip(totals[0], 0.0, None) + totals[1], means
