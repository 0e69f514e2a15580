"""Composite and randomized robustness points: built from the description's ranges, judged on
their own tolerances, with the right knee measured against the left."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from memaug_common.description import load_robot_description
from memaug_policy.controller import PolicyController
from memaug_policy.model import load_policy
from memaug_train.composite import asymmetric, composite_points, full_suite, heavy_joints, randomized_points
from memaug_train.robustness import Row, RunResult, SuitePoint, format_table, knee_pairs, run_point, suite_points
from memaug_train.tasks import leg_of

GO2 = load_robot_description("go2")
RANGES = GO2.randomization
LEGS = [leg_of(name) for name in GO2.joint_names]
SHIPPED = Path(__file__).parents[2] / "config" / "policies" / "go2_memaug.onnx"


def result(vx: float, fell: bool = False, knees_s: float = 0.0) -> RunResult:
    return RunResult(fell, np.array([vx, 0.0, 0.0]), 0.05, 0.8, knees_s)


def test_heavy_joints_put_every_joint_and_contact_term_at_its_ranges_end() -> None:
    heavy = heavy_joints(RANGES)
    assert heavy.joint_damping == RANGES.joint_damping[1]
    assert heavy.joint_friction_loss == RANGES.joint_friction_loss[1]
    assert heavy.armature_scale == RANGES.armature_scale[1]
    assert heavy.contact_dimension == 6 and heavy.elliptic_cone
    assert heavy.torsional_friction == RANGES.torsional_friction[1]
    assert heavy.foot_contact_time_constant_s == RANGES.foot_contact_time_constant_s[1]


def test_the_composite_table_stacks_each_condition_on_heavy_joints() -> None:
    points = {p.name: p for p in composite_points(RANGES, LEGS)}
    heavy = heavy_joints(RANGES)
    payload = points["heavy + 3 kg"].dynamics
    assert payload.added_base_mass_kg == 3.0 and payload.joint_damping == heavy.joint_damping
    assert points["heavy + 3 kg"].inside and not points["heavy + 5 kg"].inside
    assert points["heavy + blocks 3 cm"].terrain.kind == "blocks" and not points["heavy + blocks 3 cm"].inside
    assert points["heavy + push 1 m/s"].push_m_s == RANGES.push_velocity_m_s
    assert points["heavy + ground friction 0.3"].commands == ("forward", "lateral", "yaw")
    knees = [p for p in points.values() if p.limp_joint]
    assert len(knees) == 6 and {p.limp_joint for p in knees} == {"FL_calf_joint", "FR_calf_joint"}
    assert all(p.composite for p in points.values())
    names = [p.name for p in full_suite(RANGES, LEGS, randomized=3)]
    assert len(names) == len(suite_points(RANGES)) + len(points) + 3 and len(set(names)) == len(names)


def test_the_one_term_table_holds_the_contact_model_at_its_ends() -> None:
    points = {p.name: p for p in suite_points(RANGES)}
    assert RANGES.impratio is not None
    elliptic = points[f"elliptic cones impratio {RANGES.impratio[1]:g}"].dynamics
    assert elliptic.elliptic_cone and elliptic.contact_dimension == 6  # as training draws them
    soft = points[f"soft feet tc {RANGES.foot_contact_time_constant_s[1]:g} s"].dynamics
    assert soft.foot_contact_time_constant_s == RANGES.foot_contact_time_constant_s[1]
    assert any(p.dynamics.rolling_friction == RANGES.rolling_friction[1] for p in points.values())


def test_the_asymmetric_robot_is_lopsided_against_its_right_side() -> None:
    lopsided = asymmetric(RANGES, LEGS, heavy_joints(RANGES))
    assert lopsided.joint_strength_scale is not None and lopsided.joint_link_mass_scale is not None
    right = [i for i, leg in enumerate(LEGS) if leg.endswith("R")]
    left = [i for i, leg in enumerate(LEGS) if leg.endswith("L")]
    assert max(lopsided.joint_strength_scale[i] for i in right) < min(lopsided.joint_strength_scale[i] for i in left)
    assert min(lopsided.joint_link_mass_scale[i] for i in right) > max(lopsided.joint_link_mass_scale[i] for i in left)
    assert lopsided.base_com_offset_m[1] == RANGES.base_com_offset_m[1]
    assert lopsided.joint_damping == RANGES.joint_damping[1]  # on top of its base


def test_randomized_robots_come_from_the_ranges_and_are_repeatable() -> None:
    first, again = randomized_points(RANGES, LEGS, 5, seed=1), randomized_points(RANGES, LEGS, 5, seed=1)
    assert first == again and len({p.dynamics for p in first}) == 5
    assert all(RANGES.joint_damping[0] <= p.dynamics.joint_damping <= RANGES.joint_damping[1] for p in first)  # type: ignore[operator]
    assert all(p.sensor_noise and p.inside for p in first)


def test_composite_tolerances_and_the_knee_criteria() -> None:
    flat = SuitePoint("heavy", True, heavy_joints(RANGES), commands=("forward",), composite=True)
    assert Row(flat, "forward", (result(0.41),)).problems() == []  # 0.40 is the composite floor
    assert Row(flat, "forward", (result(0.39),)).problems() == ["forward 0.39 outside 0.5 +-20%"]
    left = SuitePoint("heavy, left front knee limp", True, limp_joint="FL_calf_joint", composite=True)
    right = SuitePoint("heavy, right front knee limp", True, limp_joint="FR_calf_joint", composite=True)
    assert Row(left, "forward", (result(0.4, knees_s=0.5),)).problems() == ["knees down 0.5 s"]
    rows = [Row(left, "forward", (result(0.40),)), Row(right, "forward", (result(0.30),))]
    assert knee_pairs(rows) == [("heavy, front knee limp", 0.40, 0.30)]
    table = format_table(rows)
    assert "| heavy, front knee limp | 0.40 | 0.30 | 0.75 | outside 1 +-15% |" in table
    rows[1] = Row(right, "forward", (result(0.38),))
    assert "| 0.95 | yes |" in format_table(rows)


def test_the_randomized_footer_names_the_pass_fraction_and_the_worst_robot() -> None:
    points = randomized_points(RANGES, LEGS, 2)
    rows = [Row(points[0], "forward", (result(0.5),)), Row(points[1], "forward", (result(0.2),))]
    assert "1 of 2 rows meet the criteria (50%); worst: random robot 2 forward, 0.20 for 0.5" in format_table(rows)


def test_the_shipped_policy_runs_on_blocks_and_on_the_asymmetric_robot() -> None:
    controller = PolicyController(load_policy(SHIPPED), GO2)
    points = {p.name: p for p in composite_points(RANGES, LEGS)}
    lopsided = run_point(controller, GO2, points["asymmetric"], "forward", seed=0, duration_s=4.0)
    assert not lopsided.fell and lopsided.velocity[0] > 0.3
    blocks = run_point(controller, GO2, points["heavy + blocks 3 cm"], "forward", seed=0, duration_s=3.0)
    assert np.isfinite(blocks.peak_speed_fraction)  # the 1500-tile ground builds and runs
