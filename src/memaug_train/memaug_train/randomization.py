"""Nuisance randomization: what is not known about a real robot, around the method's tasks.

The ranges live in the robot description (``randomization:`` in config/robots/NAME.yaml,
memaug_common.description.RandomizationRanges); this module draws from them. Each term is a
small named function. The task family (which joint fails, payload) stays in
memaug_train.tasks: randomization never fails a joint, so a right-leg failure is still met
only through the mirror.

Per robot and episode: the physical terms (a memaug_sim.dynamics.Dynamics), action and
sensor latency in physics steps, and the push schedule. Per step: observation noise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

import numpy as np

from memaug_common.arrays import arange, namespace
from memaug_common.description import RandomizationRanges
from memaug_sim.dynamics import Dynamics
from memaug_train.task_arrays import Uniform


def _uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(rng.uniform(bounds[0], bounds[1]))


def _whole(bounds: tuple[float, float]) -> tuple[float, float]:
    return bounds


def _top_quarter(bounds: tuple[float, float]) -> tuple[float, float]:
    low, high = bounds
    return low + 0.75 * (high - low), high


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(np.exp(rng.uniform(np.log(bounds[0]), np.log(bounds[1]))))


def sample_dynamics(ranges: RandomizationRanges, rng: np.random.Generator, joint_legs: Sequence[str]) -> Dynamics:
    """One robot's physical parameters, each drawn uniformly from its range (ground friction
    uniformly in its logarithm when the ranges say so); joint friction loss only on a share
    ``ranges.joint_friction_share`` of robots (none on the others). ``joint_legs`` [J] names
    each joint's leg, in the description's joint order: strength and link mass are drawn per leg.
    A share ``ranges.heavy_joint_share`` of robots has heavy joints: damping, friction loss
    and armature each from the top quarter of its range, friction loss always on; with
    ``ranges.heavy_joints_sink`` they also get the contact model's hard end (``_contact_model``).
    Terms whose share or range is zero draw nothing, so they leave the random stream as it was."""
    heavy = _share(rng, ranges.heavy_joint_share)
    joint = _top_quarter if heavy else _whole
    friction_loss = _uniform(rng, joint(ranges.joint_friction_loss))
    with_friction = rng.random() < ranges.joint_friction_share or heavy
    return Dynamics(
        joint_damping=_uniform(rng, joint(ranges.joint_damping)),
        joint_friction_loss=friction_loss if with_friction else 0.0,
        armature_scale=_uniform(rng, joint(ranges.armature_scale)),
        kp_scale=_uniform(rng, ranges.kp_scale),
        kd_scale=_uniform(rng, ranges.kd_scale),
        motor_strength=_uniform(rng, ranges.motor_strength),
        ground_friction=(_log_uniform if ranges.ground_friction_log_uniform else _uniform)(rng, ranges.ground_friction),
        added_base_mass_kg=_uniform(rng, ranges.added_base_mass_kg),
        base_com_offset_m=(
            _uniform(rng, ranges.base_com_offset_m),
            _uniform(rng, ranges.base_com_offset_m),
            _uniform(rng, ranges.base_com_offset_m),
        ),
        link_mass_scale=_uniform(rng, ranges.link_mass_scale),
        contact_time_constant_s=_uniform(rng, ranges.contact_time_constant_s),
        **_contact_model(ranges, rng, hard_end=heavy and ranges.heavy_joints_sink),
        **_asymmetry(ranges, rng, joint_legs),
    )


#: The contact-model terms switched off: the MJCF's contacts for every robot.
CONTACT_MODEL_OFF: Mapping[str, object] = MappingProxyType(
    {"rich_contact_share": 0.0, "elliptic_cone_share": 0.0, "impratio": None, "soft_feet_share": 0.0}
)
#: The asymmetry terms switched off: a mirror-symmetric robot.
ASYMMETRY_OFF: Mapping[str, object] = MappingProxyType(
    {"leg_strength_scale": (1.0, 1.0), "leg_mass_scale": (1.0, 1.0), "joint_offset_rad": 0.0}
)


def without_contact_model_and_asymmetry(ranges: RandomizationRanges) -> RandomizationRanges:
    """``ranges`` with the contact-model and asymmetry terms off: the MJCF's contacts on a
    mirror-symmetric robot, as the description drew before those terms (their cost's baseline)."""
    return ranges.model_copy(update={**CONTACT_MODEL_OFF, **ASYMMETRY_OFF})


def _share(rng: np.random.Generator, share: float) -> bool:
    """True for a share of robots; no draw at all when the share is 0 or 1."""
    return share >= 1.0 or (share > 0.0 and bool(rng.random() < share))


def _hard_or_share(rng: np.random.Generator, hard_end: bool, share: float) -> bool:
    """On at the hard end wherever the term is on at all; otherwise for its share of robots."""
    return share > 0.0 and (hard_end or _share(rng, share))


def _contact_model(ranges: RandomizationRanges, rng: np.random.Generator, hard_end: bool = False) -> dict:
    """Dynamics fields of the contact model: torsional and rolling friction (condim 6), the
    cone, impratio, soft feet; empty where the ranges leave the MJCF's model. ``hard_end``
    turns on every term the ranges give some robots (a share above 0), each from the top
    quarter of its range, without drawing the shares: ranges with a term off (as
    memaug_train.warp_physics.warp_ranges turns condim off) keep it off."""
    bounds = _top_quarter if hard_end else _whole
    terms: dict = {}
    if _hard_or_share(rng, hard_end, ranges.rich_contact_share):
        terms.update(
            contact_dimension=6,
            torsional_friction=_uniform(rng, bounds(ranges.torsional_friction)),
            rolling_friction=_uniform(rng, bounds(ranges.rolling_friction)),
        )
        # Elliptic cones only with condim 6: with condim 3, a light-armature robot's joints
        # chattered standing still at impratio 30 and above (0.7-1.7x their velocity limit).
        if ranges.elliptic_cone_share > 0:
            terms["elliptic_cone"] = _hard_or_share(rng, hard_end, ranges.elliptic_cone_share)
    if ranges.impratio is not None:
        terms["impratio"] = _log_uniform(rng, bounds(ranges.impratio))
    if _hard_or_share(rng, hard_end, ranges.soft_feet_share):
        terms["foot_contact_time_constant_s"] = _uniform(rng, bounds(ranges.foot_contact_time_constant_s))
    return terms


def _asymmetry(ranges: RandomizationRanges, rng: np.random.Generator, joint_legs: Sequence[str]) -> dict:
    """Dynamics fields of a robot that is not mirror-symmetric: per-leg strength and link
    mass, per-joint encoder offsets; empty where the ranges keep the robot symmetric."""
    legs = sorted(set(joint_legs))
    terms: dict = {}
    for field_name, bounds in (
        ("joint_strength_scale", ranges.leg_strength_scale),
        ("joint_link_mass_scale", ranges.leg_mass_scale),
    ):
        if bounds[0] != bounds[1] or bounds[0] != 1.0:
            per_leg = dict(zip(legs, rng.uniform(bounds[0], bounds[1], len(legs)), strict=True))
            terms[field_name] = tuple(float(per_leg[leg]) for leg in joint_legs)
    if ranges.joint_offset_rad > 0:
        width = ranges.joint_offset_rad
        terms["joint_offset_rad"] = tuple(float(v) for v in rng.uniform(-width, width, len(joint_legs)))
    return terms


def latency_steps(
    bounds_s: tuple[float, float], physics_period_s: float, count: int, rng: np.random.Generator
) -> np.ndarray:
    """[count] ints: a latency drawn uniformly in ``bounds_s``, in whole physics steps (rounded).

    The training simulation can delay by whole physics steps only: with 5 ms steps, 0-20 ms
    action latency is 0-4 steps, each equally likely.
    """
    low, high = (round(b / physics_period_s) for b in bounds_s)
    return rng.integers(low, high + 1, size=count)


def delayed_controls(targets: np.ndarray, previous: np.ndarray, delay_steps: np.ndarray, substeps: int) -> np.ndarray:
    """Per-physics-step joint targets [N, substeps, J] when new targets ``targets`` [N, J]
    reach the motors ``delay_steps`` [N] physics steps into the control period; until then
    the motors still follow ``previous`` [N, J]. A delay of a whole period or more applies
    ``previous`` throughout."""
    xp = namespace(targets)
    waiting = arange(substeps, like=targets)[None, :] < delay_steps[:, None]  # [N, substeps]
    return xp.where(waiting[:, :, None], previous[:, None, :], targets[:, None, :])


def push_velocities(max_velocity: float, count: int, rng: np.random.Generator) -> np.ndarray:
    """[count, 2] m/s: horizontal kicks (world x, y), each axis uniform in +-max_velocity."""
    return rng.uniform(-max_velocity, max_velocity, size=(count, 2))


def push_intervals(bounds_s: tuple[float, float], control_period_s: float, count: int, rng: np.random.Generator):
    """[count] ints: control steps until each robot's next kick."""
    return np.round(rng.uniform(bounds_s[0], bounds_s[1], size=count) / control_period_s).astype(np.int64)


def observation_noise(
    ranges: RandomizationRanges, raw: Mapping[str, np.ndarray], rng: Uniform
) -> dict[str, np.ndarray]:
    """``raw`` observation terms (unscaled, [N, size] each) with uniform sensor noise added to
    what a robot measures: gyro, gravity direction, joint positions and velocities. ``rng``
    draws where the terms are (a NumPy Generator for NumPy terms, task_arrays.TorchDraws on a
    torch device)."""
    widths = ranges.observation_noise
    noisy = dict(raw)
    for term, width in (
        ("base_angular_velocity", widths.gyro),
        ("projected_gravity", widths.gravity),
        ("joint_position", widths.joint_position),
        ("joint_velocity", widths.joint_velocity),
    ):
        if width > 0:
            noisy[term] = raw[term] + rng.uniform(-width, width, size=raw[term].shape)
    return noisy


def describe(ranges: RandomizationRanges) -> dict:
    """The ranges as plain JSON values, for run.json and the exported model's provenance."""
    return ranges.model_dump(mode="json")
