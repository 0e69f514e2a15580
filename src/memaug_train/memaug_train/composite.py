"""Composite and randomized robustness points: robots that are off in several ways at once.

The fixed table (memaug_train.robustness.suite_points) moves one term at a time; a real robot
is off in many. The composite points start from *heavy joints*: joint damping, friction loss
and armature at their ranges' top, with the full contact model at its ends (torsional and
rolling friction, elliptic cones at the top impratio, the softest feet). On top of that, one
more condition each: weaker gains, weaker motors, payloads, ground friction at both ends,
blocks, a step, a push, and each front knee going limp. Knees also go limp on a robot that is
not mirror-symmetric, where the right knee (met in training only through the mirror) must
walk as well as the left. Every value comes from the description's ranges, so "inside" and
"beyond" follow what the policy trained with.

The randomized mode draws robots from the full ranges at once, as training does, and the
table's footer reports the pass fraction and the worst row.
"""

from __future__ import annotations

import numpy as np

from memaug_common.description import RandomizationRanges
from memaug_sim.dynamics import Dynamics
from memaug_sim.terrain import Terrain
from memaug_train import randomization as rnd
from memaug_train.robustness import COMMANDS, RANDOM_ROBOT, SuitePoint, suite_points

#: Every command, for points on flat ground.
EVERY = tuple(COMMANDS)
#: The blocks and the step of the composite table, m.
BLOCK_HEIGHT_M = 0.03
STEP_HEIGHT_M = 0.05
#: The payloads on top of heavy joints, kg: the description's top (inside) and beyond it.
PAYLOADS_KG = (3.0, 5.0)


def heavy_joints(ranges: RandomizationRanges) -> Dynamics:
    """Joint damping, friction loss and armature at their ranges' top, with the contact model
    at its ends: condim 6 with the top torsional and rolling friction, elliptic cones at the
    top impratio, and the softest feet the ranges hold."""
    return Dynamics(
        joint_damping=ranges.joint_damping[1],
        joint_friction_loss=ranges.joint_friction_loss[1],
        armature_scale=ranges.armature_scale[1],
        contact_dimension=6,
        torsional_friction=ranges.torsional_friction[1],
        rolling_friction=ranges.rolling_friction[1],
        elliptic_cone=True,
        impratio=None if ranges.impratio is None else ranges.impratio[1],
        foot_contact_time_constant_s=ranges.foot_contact_time_constant_s[1],
    )


def asymmetric(ranges: RandomizationRanges, joint_legs: list[str], base: Dynamics) -> Dynamics:
    """``base`` on a robot lopsided to its ranges' ends, every term against the right side:
    the centre of mass to the left, the left legs' motors strongest and the right ones'
    weakest, the right legs heaviest, and every encoder reading high."""
    right = np.array([leg.endswith("R") for leg in joint_legs])
    strength_low, strength_high = ranges.leg_strength_scale
    mass_low, mass_high = ranges.leg_mass_scale
    com = list(base.base_com_offset_m)
    com[1] = ranges.base_com_offset_m[1]  # base frame y: to the left
    return base.model_copy(
        update={
            "base_com_offset_m": tuple(com),
            "joint_strength_scale": tuple(float(v) for v in np.where(right, strength_low, strength_high)),
            "joint_link_mass_scale": tuple(float(v) for v in np.where(right, mass_high, mass_low)),
            "joint_offset_rad": (ranges.joint_offset_rad,) * len(joint_legs),
        }
    )


def composite_points(ranges: RandomizationRanges, joint_legs: list[str]) -> list[SuitePoint]:
    """The composite table. ``joint_legs`` [J] names each joint's leg (description order)."""
    heavy = heavy_joints(ranges)

    def on_heavy(**update: object) -> Dynamics:
        return heavy.model_copy(update=update)

    kp_low, kd_low = ranges.kp_scale[0], ranges.kd_scale[0]
    strength_low = ranges.motor_strength[0]
    friction_low, friction_high = ranges.ground_friction
    payload_top = ranges.added_base_mass_kg[1]
    points = [
        SuitePoint("heavy", True, heavy, commands=EVERY, composite=True),
        SuitePoint(
            f"heavy + kp x{kp_low:g} kd x{kd_low:g}",
            True,
            on_heavy(kp_scale=kp_low, kd_scale=kd_low),
            commands=EVERY,
            composite=True,
        ),
        SuitePoint(
            f"heavy + strength x{strength_low:g}",
            True,
            on_heavy(motor_strength=strength_low),
            commands=EVERY,
            composite=True,
        ),
        *(
            SuitePoint(
                f"heavy + {kg:g} kg",
                kg <= payload_top,
                on_heavy(added_base_mass_kg=kg),
                commands=EVERY,
                composite=True,
            )
            for kg in PAYLOADS_KG
        ),
        *(
            SuitePoint(
                f"heavy + ground friction {mu:g}", True, on_heavy(ground_friction=mu), commands=EVERY, composite=True
            )
            for mu in (friction_high, friction_low)
        ),
        # Blocks and a step are shapes the training's smooth bumps never had: beyond, whatever their height.
        *(
            SuitePoint(
                f"heavy + {kind} {height * 100:g} cm", False, heavy, Terrain(kind=kind, height_m=height), composite=True
            )
            for kind, height in (("blocks", BLOCK_HEIGHT_M), ("step", STEP_HEIGHT_M))
        ),
        SuitePoint(
            f"heavy + push {ranges.push_velocity_m_s:g} m/s",
            True,
            heavy,
            push_m_s=ranges.push_velocity_m_s,
            composite=True,
        ),
    ]
    lopsided = asymmetric(ranges, joint_legs, Dynamics())
    points.append(SuitePoint("asymmetric", True, lopsided, commands=EVERY, composite=True))
    bases = (("heavy", heavy), ("asymmetric", lopsided), ("asymmetric heavy", asymmetric(ranges, joint_legs, heavy)))
    for base_name, base in bases:
        for side, joint in (("left", "FL_calf_joint"), ("right", "FR_calf_joint")):
            name = f"{base_name}, {side} front knee limp"
            points.append(SuitePoint(name, True, base, limp_joint=joint, composite=True))
    return points


def randomized_points(
    ranges: RandomizationRanges, joint_legs: list[str], count: int, seed: int = 0
) -> list[SuitePoint]:
    """``count`` robots drawn from the full ranges at once (memaug_train.randomization, as in
    training; flat ground, the top latencies and noise), each judged on every command."""
    rng = np.random.default_rng(seed)
    return [
        SuitePoint(
            f"{RANDOM_ROBOT} {k + 1}",
            True,
            rnd.sample_dynamics(ranges, rng, joint_legs),
            action_latency_s=float(rng.uniform(*ranges.action_latency_s)),
            sensor_latency_s=float(rng.uniform(*ranges.sensor_latency_s)),
            sensor_noise=True,
            commands=EVERY,
            composite=True,
        )
        for k in range(count)
    ]


def full_suite(ranges: RandomizationRanges, joint_legs: list[str], randomized: int = 0) -> list[SuitePoint]:
    """The one-term table, the composite table, then ``randomized`` random robots."""
    return [
        *suite_points(ranges),
        *composite_points(ranges, joint_legs),
        *randomized_points(ranges, joint_legs, randomized),
    ]
