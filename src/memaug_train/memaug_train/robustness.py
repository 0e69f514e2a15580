"""The robustness suite: an exported policy against dynamics it never trained on.

Each run drives the ONNX policy through memaug_policy.controller (what the policy node runs)
against the sim bridge's ROS-free simulator (memaug_sim.simulator: 2 ms physics, PD and the
torque-speed envelope in the bridge's own code), at a fixed point of the dynamics space. The
points come from the robot description's randomization ranges, so "inside" and "beyond"
follow the ranges the policy trained with: every term at both ends and half a range beyond,
the contact model's terms at their ends, the kp/kd pairs, latency, payload, a push, rough
ground, a step, and a front knee going limp
on either side (the right one never simulated in training), at nominal and high damping.

Every dynamics point on flat ground runs forward, lateral and yaw commands; the others run
forward. A run: stand 1 s on the default pose (the node's stand phase), then the policy for
``duration_s``; speeds are averaged from WARMUP_S into the run (or from 2 s after a fault).
With a limp knee the table also says how the robot walks on: knee-ground time, and the share
of the time after the fault that the dead leg's foot was down (held up on three legs: near 0).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import mujoco
import numpy as np

from memaug_common.description import RandomizationRanges, RobotDescription
from memaug_common.falls import fallen
from memaug_policy.controller import PolicyController
from memaug_policy.model import check_compatible, load_policy
from memaug_policy.observation import projected_gravity
from memaug_sim.commands import JointCommand
from memaug_sim.dynamics import NOMINAL, Dynamics
from memaug_sim.faults import LimpFault
from memaug_sim.simulator import Simulator
from memaug_sim.terrain import FLAT, Terrain
from memaug_train.env import FOOT_CONTACT_M
from memaug_train.rewards import KNEE_CONTACT_M
from memaug_train.tasks import leg_of

STAND_S = 1.0
WARMUP_S = 3.0
FAULT_AT_S = 4.0  # into the policy's run
AFTER_FAULT_S = 2.0  # speeds after a fault are averaged from this long after it
#: A point this far beyond a range's end, as a fraction of the range's width, is "beyond".
BEYOND = 0.5

COMMANDS: dict[str, tuple[float, float, float]] = {
    "forward": (0.5, 0.0, 0.0),
    "lateral": (0.0, 0.3, 0.0),
    "yaw": (0.3, 0.0, 0.6),
}
#: Which component each command is judged on, and the tolerance on it (fraction of the command).
TOLERANCE: dict[str, tuple[int, float]] = {"forward": (0, 0.15), "lateral": (1, 0.20), "yaw": (2, 0.20)}
#: Composite points (several terms off at once) are judged on wider tolerances.
COMPOSITE_TOLERANCE: dict[str, float] = {"forward": 0.20, "lateral": 0.25, "yaw": 0.25}
#: With a front knee limp the robot must keep at least this fraction of the commanded speed,
LIMP_SPEED_FRACTION = 0.5
#: walk on its feet, knees off the ground but for this long in total, s,
LIMP_KNEE_DOWN_S = 0.1
#: and the right knee (met in training only through the mirror) keep the left's speed to this fraction.
KNEE_RATIO_TOLERANCE = 0.15
#: Points drawn from the full ranges at once (memaug_train.composite) are named this, then a number.
RANDOM_ROBOT = "random robot"


@dataclass(frozen=True)
class SuitePoint:
    name: str
    inside: bool  # inside the training ranges
    dynamics: Dynamics = NOMINAL
    terrain: Terrain = FLAT
    limp_joint: str | None = None  # goes limp FAULT_AT_S into the run
    action_latency_s: float = 0.0
    sensor_latency_s: float = 0.0
    sensor_noise: bool = False  # the training ranges' observation noise
    push_m_s: float = 0.0  # sideways kick FAULT_AT_S into the run
    commands: tuple[str, ...] = ("forward",)
    composite: bool = False  # several terms off at once: judged on COMPOSITE_TOLERANCE

    @property
    def flat_dynamics(self) -> bool:
        """A dynamics point on flat ground: judged on every command's speed."""
        return self.terrain.kind == "flat" and self.limp_joint is None and self.push_m_s == 0


def _ends(bounds: tuple[float, float], low_floor: float = 0.0) -> tuple[float, float, float, float]:
    """(low, high, below, above): a range's ends and BEYOND of its width outside them."""
    low, high = bounds
    width = high - low
    return low, high, max(low - BEYOND * width, low_floor), high + BEYOND * width


def suite_points(ranges: RandomizationRanges) -> list[SuitePoint]:
    """The fixed table, from the training ranges."""
    every = tuple(COMMANDS)
    points = [SuitePoint("nominal", True, commands=every)]

    def term(label: str, make: Callable[[float], Dynamics], bounds: tuple[float, float], floor: float = 0.0) -> None:
        low, high, below, above = _ends(bounds, floor)
        values = [(low, True), (high, True), (above, False)]
        if below < low:  # a range that starts at its floor (no damping) has nothing below it
            values.append((below, False))
        for value, inside in values:
            points.append(SuitePoint(f"{label} {value:g}", inside, make(value), commands=every))

    term("joint damping", lambda v: Dynamics(joint_damping=v), ranges.joint_damping)
    term("friction loss", lambda v: Dynamics(joint_friction_loss=v), ranges.joint_friction_loss)
    term("armature x", lambda v: Dynamics(armature_scale=v), ranges.armature_scale, 0.1)
    term("strength x", lambda v: Dynamics(motor_strength=v), ranges.motor_strength, 0.1)
    term("ground friction", lambda v: Dynamics(ground_friction=v), ranges.ground_friction, 0.1)
    term("base mass +kg", lambda v: Dynamics(added_base_mass_kg=v), ranges.added_base_mass_kg, -3.0)
    term("CoM x m", lambda v: Dynamics(base_com_offset_m=(v, 0.0, 0.0)), ranges.base_com_offset_m, -1.0)
    term("link mass x", lambda v: Dynamics(link_mass_scale=v), ranges.link_mass_scale, 0.1)
    term("contact tc s", lambda v: Dynamics(contact_time_constant_s=v), ranges.contact_time_constant_s, 0.004)
    points += _contact_model_points(ranges, every)
    kp_low, kp_high, kp_below, kp_above = _ends(ranges.kp_scale, 0.1)
    kd_low, kd_high, kd_below, kd_above = _ends(ranges.kd_scale, 0.1)
    for kp, kd, inside in ((kp_low, kd_low, True), (kp_high, kd_high, True), (kp_below, kd_below, False)):
        dyn = Dynamics(kp_scale=kp, kd_scale=kd)
        points.append(SuitePoint(f"kp x{kp:g} kd x{kd:g}", inside, dyn, commands=every))
    del kp_above, kd_above  # stiffer than the range's top is not a failure mode worth a row
    latency = ranges.action_latency_s[1]
    points += [
        SuitePoint(f"action latency {latency * 1e3:g} ms", True, action_latency_s=latency, commands=every),
        SuitePoint(f"action latency {latency * 1.5e3:g} ms", False, action_latency_s=latency * 1.5),
        SuitePoint(
            "sensor noise + latency",
            True,
            sensor_noise=True,
            sensor_latency_s=ranges.sensor_latency_s[1],
            commands=every,
        ),
        SuitePoint(f"push {ranges.push_velocity_m_s:g} m/s", True, push_m_s=ranges.push_velocity_m_s),
        SuitePoint(f"push {1.5 * ranges.push_velocity_m_s:g} m/s", False, push_m_s=1.5 * ranges.push_velocity_m_s),
        SuitePoint("rough ground 3 cm", ranges.rough_ground_m[1] >= 0.03, terrain=Terrain(kind="rough", height_m=0.03)),
        SuitePoint("step 5 cm", False, terrain=Terrain(kind="step", height_m=0.05)),
    ]
    high_damping = Dynamics(joint_damping=ranges.joint_damping[1])
    for side, joint in (("left", "FL_calf_joint"), ("right", "FR_calf_joint")):
        for label, dyn in (("nominal", NOMINAL), (f"damping {ranges.joint_damping[1]:g}", high_damping)):
            points.append(SuitePoint(f"{side} front knee limp, {label}", True, dyn, limp_joint=joint))
    return points


def _contact_model_points(ranges: RandomizationRanges, commands: tuple[str, ...]) -> list[SuitePoint]:
    """The contact model one term at a time, each at its range's end: torsional and rolling
    friction (condim 6), elliptic cones at the top impratio (with condim 6, as training draws
    them), the softest feet."""
    rich = Dynamics(
        contact_dimension=6,
        torsional_friction=ranges.torsional_friction[1],
        rolling_friction=ranges.rolling_friction[1],
    )
    elliptic = rich.model_copy(
        update={"elliptic_cone": True, "impratio": None if ranges.impratio is None else ranges.impratio[1]}
    )
    soft = Dynamics(foot_contact_time_constant_s=ranges.foot_contact_time_constant_s[1])
    return [
        SuitePoint(
            f"condim 6 torsion {rich.torsional_friction:g} rolling {rich.rolling_friction:g}",
            True,
            rich,
            commands=commands,
        ),
        SuitePoint(
            "elliptic cones" + ("" if elliptic.impratio is None else f" impratio {elliptic.impratio:g}"),
            True,
            elliptic,
            commands=commands,
        ),
        SuitePoint(f"soft feet tc {soft.foot_contact_time_constant_s:g} s", True, soft, commands=commands),
    ]


@dataclass(frozen=True)
class RunResult:
    fell: bool
    velocity: np.ndarray  # [3] mean (vx, vy m/s base frame, yaw rate rad/s) over the judged window
    tracking_error: float  # mean |v_xy - v_xy*| m/s over the judged window
    peak_speed_fraction: float  # max over joints and physics steps of |dq| / velocity limit
    knee_contact_s: float  # summed time knees spent on the ground, s
    #: With a limp joint: the share of the time after the fault that the dead leg's foot was on
    #: the ground (0: held up, three-legged; 1: dragged or leaned on). NaN without a fault.
    dead_foot_down: float = float("nan")


@dataclass
class _Window:
    """Sums over the judged window of a run."""

    velocity: np.ndarray = field(default_factory=lambda: np.zeros(3))
    error: float = 0.0
    samples: int = 0


def run_point(
    controller: PolicyController,
    description: RobotDescription,
    point: SuitePoint,
    command_name: str,
    seed: int,
    duration_s: float,
    noise_widths: RandomizationRanges | None = None,
) -> RunResult:
    """One run of ``point`` with command ``command_name``; deterministic for a seed."""
    rng = np.random.default_rng(seed)
    sim = Simulator(description, command_timeout_s=1.0, seed=seed, dynamics=point.dynamics, terrain=point.terrain)
    idx, data = sim.index, sim.data
    data.qpos[idx.qpos] += rng.uniform(-0.05, 0.05, description.num_joints)
    mujoco.mj_forward(sim.model, data)
    zeros = np.zeros(description.num_joints)
    stand = JointCommand(description.default_pose.copy(), zeros, zeros)
    physics_dt = sim.physics_period_s
    substeps = round(description.control_period_s / physics_dt)
    for _ in range(round(STAND_S / physics_dt)):
        sim.submit_command(stand)
        sim.step()

    command = np.array(COMMANDS[command_name])
    knees = [int(sim.model.sensor(f"{leg_of(foot)}_knee_pos").adr[0]) + 2 for foot in description.feet]
    dead_foot = _dead_foot(sim, description, point.limp_joint)
    dead_foot_down_s, after_fault_s = 0.0, 0.0
    action_delay = round(point.action_latency_s / physics_dt)
    sensor_delay = round(point.sensor_latency_s / physics_dt)
    history: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    pending: list[tuple[int, JointCommand]] = []  # (physics step it reaches the motors, command)
    controller.reset()
    window = _Window()
    peak, knee_time, fell = 0.0, 0.0, False
    steps = round(duration_s / description.control_period_s)
    fault_tick = round(FAULT_AT_S / description.control_period_s)
    judged_from = round((FAULT_AT_S + AFTER_FAULT_S if point.limp_joint else WARMUP_S) / description.control_period_s)
    physics_step = 0
    for tick in range(steps):
        if tick == fault_tick and point.limp_joint is not None:
            sim.inject(LimpFault(kind="limp", joint=point.limp_joint))
        if tick == fault_tick and point.push_m_s > 0:
            data.qvel[1] += point.push_m_s  # world y: a kick from the side
        q, dq, gyro, quat = history[-1 - min(sensor_delay, len(history) - 1)] if history else _sense(sim)
        if point.sensor_noise and noise_widths is not None:
            widths = noise_widths.observation_noise
            q = q + rng.uniform(-widths.joint_position, widths.joint_position, q.shape)
            dq = dq + rng.uniform(-widths.joint_velocity, widths.joint_velocity, dq.shape)
            gyro = gyro + rng.uniform(-widths.gyro, widths.gyro, 3)
        out = controller.step(q, dq, gyro, quat, command, sim.base().linear_velocity)  # used by sim-only models
        pending.append((physics_step + action_delay, JointCommand(out.targets, zeros, zeros)))
        for _ in range(substeps):
            while pending and pending[0][0] <= physics_step:
                sim.submit_command(pending.pop(0)[1])
            sim.step()
            physics_step += 1
            history.append(_sense(sim))
            del history[: -(sensor_delay + 1)]
            peak = max(peak, float(np.max(np.abs(data.qvel[idx.qvel]) / description.velocity_limits)))
            knee_time += physics_dt * int(np.sum(data.sensordata[knees] < KNEE_CONTACT_M))
            if dead_foot is not None and tick >= fault_tick:
                sensor, radius = dead_foot
                after_fault_s += physics_dt
                dead_foot_down_s += physics_dt * float(data.sensordata[sensor] - radius < FOOT_CONTACT_M)
        base = sim.base()
        if fallen(np.array([base.position[2]]), projected_gravity(base.orientation_wxyz)[None])[0]:
            fell = True
            break
        if tick >= judged_from:
            measured = np.array([base.linear_velocity[0], base.linear_velocity[1], base.angular_velocity[2]])
            window.velocity += measured
            window.error += float(np.linalg.norm(measured[:2] - command[:2]))
            window.samples += 1
    samples = max(window.samples, 1)
    velocity = window.velocity / samples if window.samples else np.full(3, np.nan)
    error = window.error / samples if window.samples else np.nan
    dead_foot_down = dead_foot_down_s / after_fault_s if after_fault_s else np.nan
    return RunResult(fell, velocity, error, peak, knee_time, dead_foot_down)


def _dead_foot(sim: Simulator, description: RobotDescription, limp_joint: str | None) -> tuple[int, float] | None:
    """(sensordata index of the world z of the foot on ``limp_joint``'s leg, the foot sphere's
    radius m), or None without a limp joint. On flat ground only, as every limp point is."""
    if limp_joint is None:
        return None
    k = [leg_of(foot) for foot in description.feet].index(leg_of(limp_joint))
    sensor = int(sim.model.sensor(f"{description.feet[k]}_pos").adr[0]) + 2
    return sensor, float(sim.model.geom_size[sim.index.feet_geoms[k], 0])


def _sense(sim: Simulator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What the robot measures now: joint positions, velocities, gyro, IMU orientation (wxyz)."""
    joints, imu = sim.joints(), sim.imu()
    return joints.position, joints.velocity, imu.angular_velocity, imu.orientation_wxyz


@dataclass(frozen=True)
class Row:
    point: SuitePoint
    command: str
    runs: tuple[RunResult, ...]

    @property
    def falls(self) -> int:
        return sum(r.fell for r in self.runs)

    def mean_velocity(self) -> np.ndarray:
        standing = [r.velocity for r in self.runs if not r.fell]
        return np.mean(standing, axis=0) if standing else np.full(3, np.nan)

    def judged(self) -> tuple[float, float]:
        """(achieved, commanded) on the component this command is judged on."""
        component, _ = TOLERANCE[self.command]
        return float(self.mean_velocity()[component]), COMMANDS[self.command][component]

    def problems(self) -> list[str]:
        """What this row misses of the release criteria (empty: it meets them)."""
        found = []
        if self.falls and self.point.inside:
            found.append(f"{self.falls} fall(s)")
        achieved, commanded = self.judged()
        if self.point.limp_joint is not None:
            if not achieved >= LIMP_SPEED_FRACTION * commanded:
                found.append(f"speed {achieved:.2f} < {LIMP_SPEED_FRACTION:.0%} of {commanded:g}")
            knees_down = max(r.knee_contact_s for r in self.runs)
            if knees_down > LIMP_KNEE_DOWN_S:
                found.append(f"knees down {knees_down:.1f} s")
        elif self.point.flat_dynamics:
            tolerance = COMPOSITE_TOLERANCE[self.command] if self.point.composite else TOLERANCE[self.command][1]
            if not abs(achieved - commanded) <= tolerance * commanded:
                found.append(f"{self.command} {achieved:.2f} outside {commanded:g} +-{tolerance:.0%}")
        peak = max(r.peak_speed_fraction for r in self.runs)
        if peak > 1.0:
            found.append(f"joint speed {peak:.2f}x its limit")
        return found


def run_suite(
    model_path: Path,
    description: RobotDescription,
    points: Sequence[SuitePoint],
    seeds: int,
    duration_s: float,
    on_row: Callable[[Row], None] | None = None,
) -> list[Row]:
    """Every point x its commands x ``seeds`` runs, through one loaded policy."""
    model = load_policy(model_path)
    check_compatible(model, description)
    controller = PolicyController(model, description)
    rows = []
    for point in points:
        for command in point.commands:
            runs = tuple(
                run_point(controller, description, point, command, seed, duration_s, description.randomization)
                for seed in range(seeds)
            )
            row = Row(point, command, runs)
            rows.append(row)
            if on_row is not None:
                on_row(row)
    return rows


def _verdict_cell(row: Row) -> str:
    """What a row misses, or yes; a beyond-range row's falls are judged with every beyond row's
    (the allowance under the table), so a row that meets the rest says it fell, not a bare yes."""
    problems = row.problems()
    if problems:
        return "; ".join(problems)
    if row.falls:
        return f"yes but {row.falls} fall(s), counted in the beyond-range allowance"
    return "yes"


def format_table(rows: Iterable[Row]) -> str:
    """Markdown: one line per point and command, then the verdict against the release criteria."""
    rows = list(rows)
    lines = [
        "| point | range | command | falls | judged speed (command) | vx, vy m/s, wz rad/s | "
        "tracking error m/s | peak abs(dq)/limit | knees down s | dead foot down | meets criteria |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        v = row.mean_velocity()
        achieved, commanded = row.judged()
        errors = [r.tracking_error for r in row.runs if not r.fell]
        lines.append(
            f"| {row.point.name} | {'inside' if row.point.inside else 'beyond'} | {row.command} | "
            f"{row.falls}/{len(row.runs)} | {achieved:.2f} ({commanded:g}) | {v[0]:+.2f}, {v[1]:+.2f}, {v[2]:+.2f} | "
            f"{np.mean(errors) if errors else float('nan'):.3f} | "
            f"{max(r.peak_speed_fraction for r in row.runs):.2f} | "
            f"{np.mean([r.knee_contact_s for r in row.runs]):.1f} | {_dead_foot_cell(row)} | "
            f"{_verdict_cell(row)} |"
        )
    beyond = [r for r in rows if not r.point.inside]
    beyond_runs = sum(len(r.runs) for r in beyond)
    beyond_falls = sum(r.falls for r in beyond)
    failing = [r for r in rows if r.problems()]
    pairs = knee_pairs(rows)
    lines += [
        "",
        f"Rows meeting the criteria: {len(rows) - len(failing)} of {len(rows)}. "
        f"Falls beyond the training ranges: {beyond_falls} of {beyond_runs} runs "
        f"({'within' if beyond_falls * 10 <= beyond_runs else 'above'} the 1-in-10 allowance).",
    ]
    if pairs:
        lines += ["", "| knee pair | left m/s | right m/s | right / left | meets criteria |", "|---|---|---|---|---|"]
        for name, left, right in pairs:
            ratio = right / left if left > 0 else float("nan")
            verdict = "yes" if abs(ratio - 1.0) <= KNEE_RATIO_TOLERANCE else f"outside 1 +-{KNEE_RATIO_TOLERANCE:.0%}"
            lines.append(f"| {name} | {left:.2f} | {right:.2f} | {ratio:.2f} | {verdict} |")
    random_rows = [r for r in rows if r.point.name.startswith(RANDOM_ROBOT)]
    if random_rows:
        passed = sum(not r.problems() for r in random_rows)
        worst = min(random_rows, key=_judged_fraction)
        lines += [
            "",
            f"Robots drawn from the full ranges: {passed} of {len(random_rows)} rows meet the criteria "
            f"({passed / len(random_rows):.0%}); worst: {worst.point.name} {worst.command}, "
            f"{worst.judged()[0]:.2f} for {worst.judged()[1]:g}, {worst.falls} of {len(worst.runs)} fell.",
        ]
    return "\n".join(lines)


def knee_pairs(rows: Iterable[Row]) -> list[tuple[str, float, float]]:
    """(point name with the side left out, left knee's speed, right knee's speed) for every pair of
    limp-front-knee rows on the same robot; a fall counts as speed 0."""
    limp = {r.point.name: r for r in rows if r.point.limp_joint is not None}
    pairs = []
    for name, left in limp.items():
        right = limp.get(name.replace("left front knee", "right front knee"))
        if "left front knee" in name and right is not None:
            speeds = [0.0 if r.falls else r.judged()[0] for r in (left, right)]
            pairs.append((name.replace("left front knee", "front knee"), speeds[0], speeds[1]))
    return pairs


def _judged_fraction(row: Row) -> float:
    """The judged speed as a fraction of the command, 0 for a row where a run fell."""
    achieved, commanded = row.judged()
    return 0.0 if row.falls or np.isnan(achieved) else achieved / commanded


def _dead_foot_cell(row: Row) -> str:
    """The dead leg's foot-down share after the fault, over the runs (runs that fell count up to
    their fall); '-' where no joint fails."""
    shares = [r.dead_foot_down for r in row.runs if not np.isnan(r.dead_foot_down)]
    if row.point.limp_joint is None or not shares:  # no fault, or every run fell before it
        return "-"
    return f"{np.mean(shares):.0%}"


def select(points: Sequence[SuitePoint], names: Sequence[str] | None) -> list[SuitePoint]:
    """The points whose names contain any of ``names`` (all points when None); ValueError if
    a name matches none."""
    if not names:
        return list(points)
    unknown = [n for n in names if not any(n in p.name for p in points)]
    if unknown:
        raise ValueError(f"no suite point matches {unknown}; points: {[p.name for p in points]}")
    return [p for p in points if any(n in p.name for n in names)]


def only_commands(points: Sequence[SuitePoint], commands: Sequence[str]) -> list[SuitePoint]:
    """The points with their commands narrowed to ``commands`` (points left with none dropped)."""
    narrowed = [replace(p, commands=tuple(c for c in p.commands if c in commands)) for p in points]
    return [p for p in narrowed if p.commands]
